/**
 * WebRTC: samples `RTCPeerConnection.getStats()` every `intervalMs` (default
 * 5 s) and reports inbound video/audio bitrate, fps, frame size, jitter,
 * packets lost and loss ratio, frames dropped and the candidate pair's RTT.
 * The element showing the remote stream (optional) gives the player state
 * through the HTML5 tracking. Every figure goes into the interval samples
 * (bitrates and frame size as the rendition; fps, jitter, packets lost, loss
 * ratio and RTT as the sample's WebRTC fields) and is also handed to `onStats`.
 */
import type { Adapter } from '../core/adapter.js';

export interface WebRtcStats {
  videoBitrateBps: number;
  audioBitrateBps: number;
  framesPerSecond: number;
  width: number;
  height: number;
  jitterMs: number;
  packetsLost: number;
  /** Lost ÷ (lost + received) over the interval, 0–1. */
  lossRatio: number;
  framesDropped: number;
  roundTripTimeMs: number;
}

export interface WebRtcTarget {
  peerConnection: RTCPeerConnection;
  video?: HTMLMediaElement;
  intervalMs?: number;
  onStats?: (s: WebRtcStats) => void;
}

type Report = Record<string, number | string | boolean | undefined>;

/** Keeps a figure inside the beacon schema's bounds (a NaN or negative count becomes 0). */
const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v || 0));

export const webrtc: Adapter = {
  name: 'webrtc',
  test: (t) => typeof (t as WebRtcTarget)?.peerConnection?.getStats === 'function',
  attach(core, target, tools) {
    const t = target as WebRtcTarget;
    const pc = t.peerConnection;
    core.setContext({
      playerSoftware: 'webrtc',
      playerVersion: '',
      streamFormat: 'webrtc',
      streamType: 'live',
    });
    const untrack = t.video
      ? tools.trackMedia(core, t.video, { errors: true, rendition: false, source: false })
      : () => {};
    core.ready();
    let dropped = 0;
    core.probe.droppedFrames = () => dropped;
    let last: Record<string, number> = {};
    let lastMs = 0;
    const poll = async () => {
      const reports: Report[] = [];
      (await pc.getStats()).forEach((r: Report) => {
        reports.push(r);
      });
      const now = Date.now();
      const dt = lastMs ? (now - lastMs) / 1000 : 0;
      const prev = last;
      const next: Record<string, number> = {};
      const s: WebRtcStats = {
        videoBitrateBps: 0,
        audioBitrateBps: 0,
        framesPerSecond: 0,
        width: 0,
        height: 0,
        jitterMs: 0,
        packetsLost: 0,
        lossRatio: 0,
        framesDropped: 0,
        roundTripTimeMs: 0,
      };
      let lost = 0;
      let received = 0;
      for (const r of reports) {
        const n = (k: string) => Number(r[k] ?? 0);
        if (r['type'] === 'inbound-rtp') {
          const kind = r['kind'] as string;
          next[`${kind}b`] = n('bytesReceived');
          next[`${kind}l`] = n('packetsLost');
          next[`${kind}r`] = n('packetsReceived');
          const rate = dt ? ((n('bytesReceived') - (prev[`${kind}b`] ?? 0)) * 8) / dt : 0;
          lost += n('packetsLost') - (prev[`${kind}l`] ?? 0);
          received += n('packetsReceived') - (prev[`${kind}r`] ?? 0);
          s.packetsLost += n('packetsLost');
          s.jitterMs = Math.max(s.jitterMs, n('jitter') * 1000);
          if (kind === 'video') {
            s.videoBitrateBps = rate;
            s.framesPerSecond = n('framesPerSecond');
            s.width = n('frameWidth');
            s.height = n('frameHeight');
            s.framesDropped = n('framesDropped');
          } else s.audioBitrateBps = rate;
        } else if (r['type'] === 'candidate-pair' && r['nominated'] && r['state'] === 'succeeded') {
          s.roundTripTimeMs = n('currentRoundTripTime') * 1000;
        }
      }
      s.lossRatio = lost + received > 0 ? Math.max(0, lost) / (lost + received) : 0;
      last = next;
      lastMs = now;
      dropped = s.framesDropped;
      if (!dt) return; // the first poll only sets the baseline for the rates
      core.rtc = {
        framesPerSecond: clamp(s.framesPerSecond, 1000),
        jitterMs: clamp(s.jitterMs, 864e5),
        packetsLost: Math.round(clamp(s.packetsLost, 1e9)),
        packetLossRatio: clamp(s.lossRatio, 1),
        roundTripTimeMs: clamp(s.roundTripTimeMs, 864e5),
      };
      core.setRendition(
        {
          bitrateBps: s.videoBitrateBps,
          width: s.width,
          height: s.height,
          audioBitrateBps: s.audioBitrateBps,
        },
        true,
      );
      if (!t.video && pc.connectionState === 'connected') core.playing();
      core.tick();
      t.onStats?.(s);
    };
    const timer = setInterval(() => void poll().catch(() => {}), t.intervalMs ?? 5000);
    void poll().catch(() => {});
    return () => {
      clearInterval(timer);
      untrack();
    };
  },
};
