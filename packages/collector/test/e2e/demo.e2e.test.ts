/** The demo page the server serves at /demo/: it plays in Chromium and its view arrives in the query API. */
import { describe, expect, it } from 'vitest';
import { e2eSuite } from './harness.js';
import { waitFor, waitForView } from './kit/index.js';

const e = e2eSuite();

describe('demo page', () => {
  it('plays the generated video with the collector attached; the view is stored when the tab closes', async () => {
    const context = await e.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${e.server.url}/demo`);
    await page.evaluate(() => (document.getElementById('video') as HTMLVideoElement).play());
    await waitFor(
      () => page.evaluate(() => (document.getElementById('video') as HTMLVideoElement).currentTime > 2),
      'the demo video to play 2 s',
      60_000,
    );
    const viewId = await page.evaluate(() => document.getElementById('view-id')!.textContent!);
    await page.close({ runBeforeUnload: true });
    // The context closes once the view is stored: until then the page's last requests stay the browser's to send.
    const view = await waitForView(e.server, viewId).finally(() => context.close());
    expect(view).toMatchObject({ outcome: 'success', video_id: 'openqoe-demo', player_software: 'html5' });
    expect(view.watch_time_ms as number).toBeGreaterThan(1500);
    expect(e.server.output()).toContain('/demo/');
  });
});
