/**
 * The Live streams page tells users where to push from what the server says:
 * the RTMP URL it listens on, or, with the RTMP ingest off, why (never a
 * port 1935 that nothing listens on).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  openPage,
  pollPage,
  type ServerProcess,
  signIn,
  startDashboardServer,
  stopServer,
} from './kit.js';

describe('Live streams page: where to push', () => {
  let browser: Browser;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await stopServer(s);
  });

  const emptyStateOf = async (rtmp: Record<string, unknown>) => {
    const server = await startDashboardServer({ live: { rtmp } });
    servers.push(server);
    const { page, errors } = await openPage(browser);
    await signIn(page, server, '/ui/live-streams');
    const empty = page.locator('[data-testid=empty-state]');
    await pollPage(
      () => empty.count(),
      (n) => n === 1,
      'the empty state',
    );
    expect(errors).toEqual([]);
    return { server, text: (await empty.textContent()) ?? '' };
  };

  it('with RTMP on, the URL the server listens on', async () => {
    const { server, text } = await emptyStateOf({ port: 0 });
    const answer = (await (
      await fetch(`${server.url}/video/v1/live-streams`, { headers: { authorization: server.adminAuth() } })
    ).json()) as { rtmp: { url: string } };
    expect(answer.rtmp.url).toMatch(/^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
    expect(text).toContain(`${answer.rtmp.url}/STREAM_KEY`);
  });

  it('with RTMP off, that it is off and why', async () => {
    const { text } = await emptyStateOf({ enabled: false });
    expect(text).toContain('RTMP ingest is off (live.rtmp.enabled is false)');
    expect(text).not.toContain('1935');
  });
});
