/**
 * WebRTC in real Chromium: two peer connections in one page (loopback), the
 * sender a 320×240 canvas drawn at 25 fps plus an oscillator; the collector
 * samples the receiver's getStats().
 */
import { describe, expect, it } from 'vitest';
import { e2eSuite } from './harness.js';
import { waitFor } from './kit/index.js';

const e = e2eSuite();
const WIDTH = 320;
const HEIGHT = 240;
const FPS = 25;

const setup = () => `
const video = document.getElementById('v');
window.stats = [];
(async () => {
  const canvas = document.createElement('canvas');
  canvas.width = ${WIDTH};
  canvas.height = ${HEIGHT};
  const g = canvas.getContext('2d');
  const stream = canvas.captureStream(0);
  const track = stream.getVideoTracks()[0];
  let n = 0;
  setInterval(() => {
    g.fillStyle = 'hsl(' + ((n * 7) % 360) + ', 80%, 50%)';
    g.fillRect(0, 0, ${WIDTH}, ${HEIGHT});
    g.fillStyle = '#fff';
    g.fillText(String(n++), 10, 20);
    track.requestFrame();
  }, ${1000 / FPS});
  const audio = new AudioContext();
  const osc = audio.createOscillator();
  const dest = audio.createMediaStreamDestination();
  osc.connect(dest);
  osc.start();
  const send = new RTCPeerConnection();
  const recv = new RTCPeerConnection();
  send.onicecandidate = (ev) => ev.candidate && recv.addIceCandidate(ev.candidate);
  recv.onicecandidate = (ev) => ev.candidate && send.addIceCandidate(ev.candidate);
  recv.ontrack = (ev) => {
    if (video.srcObject) return;
    video.srcObject = ev.streams[0];
    video.play().catch(() => {});
  };
  send.addTrack(track, stream);
  send.addTrack(dest.stream.getAudioTracks()[0], stream);
  window.handle = openqoe.monitor(
    { peerConnection: recv, video, intervalMs: 1000, onStats: (s) => window.stats.push(s) },
    ${e.collectorOptions("data: { videoId: 'webrtc-loopback' }")},
  );
  const offer = await send.createOffer();
  await send.setLocalDescription(offer);
  await recv.setRemoteDescription(offer);
  const answer = await recv.createAnswer();
  await recv.setLocalDescription(answer);
  await send.setRemoteDescription(answer);
})();
`;

interface Stats {
  videoBitrateBps: number;
  audioBitrateBps: number;
  framesPerSecond: number;
  width: number;
  height: number;
  jitterMs: number;
  packetsLost: number;
  lossRatio: number;
  roundTripTimeMs: number;
}

describe('WebRTC source in Chromium', () => {
  it('a loopback call gives stats samples with plausible fps, frame size, jitter, loss and RTT', async () => {
    const page = await e.open(
      'webrtc',
      ['/collector/openqoe.iife.js', '/collector/openqoe-webrtc.iife.js'],
      setup(),
    );
    await waitFor(
      async () => (await page.evaluate(() => (window as unknown as { stats: unknown[] }).stats.length)) >= 5,
      'five stats samples',
      30_000,
    );
    const stats = await page.evaluate(() => (window as unknown as { stats: Stats[] }).stats);
    const viewId = await e.viewId(page);
    const view = await e.leave(page, viewId);

    const settled = stats.slice(2);
    for (const s of settled) {
      expect(s.width).toBe(WIDTH);
      expect(s.height).toBe(HEIGHT);
      expect(s.framesPerSecond).toBeGreaterThan(FPS * 0.6);
      expect(s.framesPerSecond).toBeLessThanOrEqual(FPS + 2);
      expect(s.videoBitrateBps).toBeGreaterThan(10_000);
      expect(s.audioBitrateBps).toBeGreaterThan(5_000);
      expect(s.jitterMs).toBeGreaterThanOrEqual(0);
      expect(s.jitterMs).toBeLessThan(200);
      expect(s.packetsLost).toBeGreaterThanOrEqual(0);
      expect(s.lossRatio).toBeGreaterThanOrEqual(0);
      expect(s.lossRatio).toBeLessThan(0.05); // loopback: nothing should be lost
      expect(s.roundTripTimeMs).toBeGreaterThanOrEqual(0);
      expect(s.roundTripTimeMs).toBeLessThan(200);
    }
    expect(view).toMatchObject({
      outcome: 'success',
      player_software: 'webrtc',
      stream_format: 'webrtc',
      stream_type: 'live',
    });
    expect(view.weighted_average_bitrate_bps as number).toBeGreaterThan(10_000);
    // Samples carry the frame size; the measured bitrate moving is not a rendition change.
    expect(view.rendition_changes).toBe(0);
    const playing = view.timeline.filter((t) => t.kind === 'sample' && t.state === 'playing');
    expect(playing.length).toBeGreaterThanOrEqual(4);
    expect(playing.at(-1)).toMatchObject({ video_width: WIDTH, video_height: HEIGHT });

    // The per-view WebRTC aggregates, read back through the query API: the samples carried the stats.
    const fps = view.webrtc_fps as number;
    expect(fps).toBeGreaterThan(FPS * 0.4); // the first polls see the stream ramping up
    expect(fps).toBeLessThanOrEqual(FPS + 2);
    expect(view.webrtc_jitter_ms as number).toBeGreaterThanOrEqual(0);
    expect(view.webrtc_jitter_ms as number).toBeLessThan(1000);
    expect(view.webrtc_packet_loss_ratio as number).toBeGreaterThanOrEqual(0);
    expect(view.webrtc_packet_loss_ratio as number).toBeLessThanOrEqual(1);
    expect(view.webrtc_rtt_ms as number).toBeGreaterThanOrEqual(0);
    expect(view.webrtc_rtt_ms as number).toBeLessThan(1000);
    // The running loss total only grows, so the view holds at least what the page saw before leaving.
    const lost = view.webrtc_packets_lost as number;
    expect(Number.isInteger(lost)).toBe(true);
    expect(lost).toBeGreaterThanOrEqual(Math.max(0, ...stats.map((s) => s.packetsLost)));
  });
});
