/**
 * The incident page's likely cause, in Chromium against the real server and
 * its alert engine: five views play through the real intake, three on CDN A
 * and two on CDN B, one of which stalls (a fifth of the watch time
 * rebuffers, all of it on CDN B). A rule on the whole environment
 * (rebuffering above 10 %, no breakdown) opens an incident whose root-cause
 * hint names CDN B; the incident page shows the hint as the API answers it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  openPage,
  pollPage,
  REALTIME_CONFIG,
  type ServerProcess,
  signIn,
  startDashboardServer,
  stopServer,
  waitFor,
} from './kit.js';
import { Heartbeat, startedViews } from './traffic.js';

const CDN_A = 'cdn-a.example.net';
const CDN_B = 'cdn-b.example.net';

interface Incident {
  id: string;
  root_cause: { summary: string; contributors: { dimension: string; value: string }[] } | null;
}

describe('incident page: the likely cause of a whole-environment incident', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let heartbeat: Heartbeat | undefined;

  const api = async <T>(path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${server.url}${path}`, {
      headers: { authorization: server.adminAuth(), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDashboardServer(REALTIME_CONFIG), launchChromium()]);
    ({ page, errors } = await openPage(browser));
    const live = startedViews('cause', [CDN_A, CDN_A, CDN_A, CDN_B, CDN_B]);
    heartbeat = new Heartbeat(server, live);
    await heartbeat.start();
    await heartbeat.stallAfterPlaying(live[4]!.viewId);
  });

  afterAll(async () => {
    heartbeat?.stop();
    await browser?.close();
    await stopServer(server);
  });

  it('names CDN B on the incident page, as the API answers', async () => {
    const rule = await api<{ data: { id: string } }>('/system/v1/alert-rules', {
      name: 'Rebuffering overall',
      metric: 'current_rebuffering_percentage',
      condition: { type: 'threshold', operator: '>', value: 10, for_seconds: 0 },
    });
    expect(rule.status).toBe(201);
    let incident: Incident | undefined;
    await waitFor(async () => {
      incident = (await api<{ data: Incident[] }>(`/data/v1/incidents?rule_id=${rule.body.data.id}`)).body
        .data[0];
      return incident !== undefined;
    }, 'the whole-environment incident');
    expect(incident!.root_cause?.contributors).toContainEqual(
      expect.objectContaining({ dimension: 'cdn', value: CDN_B }),
    );
    await signIn(page, server, `/ui/alerts/incidents/${incident!.id}`);
    await pollPage(
      () => page.getByTestId('root-cause').textContent(),
      (text) => text === incident!.root_cause!.summary,
      'the likely cause on the incident page',
    );
    expect(incident!.root_cause!.summary).toContain(`CDN ${CDN_B}`);
    expect(errors).toEqual([]);
  });
});
