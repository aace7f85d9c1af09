/**
 * Test media made with ffmpeg, cached between runs: the same 12 s clip
 * (a moving test pattern with a frame counter, and a 440 Hz tone) as
 *
 * - `hls-ts/master.m3u8` and `hls-fmp4/master.m3u8`: 3 renditions, 2 s segments
 *   named `v{0,1,2}/seg_00000.{ts,m4s}` (numbered from 0);
 * - `dash/manifest.mpd`: the same 3 video renditions + audio, 2 s segments
 *   named `seg-{rep}-00001.m4s` (numbered from 1);
 * - `progressive.mp4` (H.264/AAC, faststart) and `progressive.webm` (VP9/Opus);
 * - `long.mp4`: the pattern alone for LONG_CLIP_SECONDS (30 s), small, for
 *   completion (a known duration watched to a known point).
 *
 * The cache key is a hash of the recipe, so changing a command rebuilds.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CLIP_SECONDS = 12;
export const SEGMENT_SECONDS = 2;
export const FPS = 25;
export const LONG_CLIP_SECONDS = 30;
export const RENDITIONS = [
  { width: 416, height: 234, bitrateBps: 300_000 },
  { width: 640, height: 360, bitrateBps: 800_000 },
  { width: 960, height: 540, bitrateBps: 1_500_000 },
] as const;

/** Where generated media is kept between runs (`OPENQOE_MEDIA_CACHE` overrides). */
export const DEFAULT_CACHE_DIR = resolve(
  import.meta.dirname,
  '../../../../../node_modules/.cache/openqoe-media',
);

const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p'];
const gop = [
  '-g',
  String(FPS * SEGMENT_SECONDS),
  '-keyint_min',
  String(FPS * SEGMENT_SECONDS),
  '-sc_threshold',
  '0',
];
const source = (w: number, h: number) => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${w}x${h}:rate=${FPS}:duration=${CLIP_SECONDS}`,
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=48000:duration=${CLIP_SECONDS}`,
];

/** Every ffmpeg run of the recipe, relative to the output dir. */
function recipe(): string[][] {
  const steps: string[][] = [];
  RENDITIONS.forEach((r, i) => {
    steps.push([
      ...source(r.width, r.height),
      ...x264,
      ...gop,
      '-b:v',
      String(r.bitrateBps),
      '-maxrate',
      String(r.bitrateBps),
      '-bufsize',
      String(r.bitrateBps * 2),
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-movflags',
      '+faststart',
      `r${i}.mp4`,
    ]);
  });
  const inputs = RENDITIONS.flatMap((_, i) => ['-i', `r${i}.mp4`]);
  const maps = RENDITIONS.flatMap((_, i) => ['-map', `${i}:v`, '-map', `${i}:a`]);
  const varMap = RENDITIONS.map((_, i) => `v:${i},a:${i}`).join(' ');
  const hls = [
    '-c',
    'copy',
    '-f',
    'hls',
    '-hls_time',
    String(SEGMENT_SECONDS),
    '-hls_playlist_type',
    'vod',
    '-master_pl_name',
    'master.m3u8',
    '-var_stream_map',
    varMap,
  ];
  steps.push([
    ...inputs,
    ...maps,
    ...hls,
    '-hls_segment_filename',
    'hls-ts/v%v/seg_%05d.ts',
    'hls-ts/v%v/index.m3u8',
  ]);
  steps.push([
    ...inputs,
    ...maps,
    ...hls,
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_segment_filename',
    'hls-fmp4/v%v/seg_%05d.m4s',
    'hls-fmp4/v%v/index.m3u8',
  ]);
  steps.push([
    ...inputs,
    ...RENDITIONS.flatMap((_, i) => ['-map', `${i}:v`]),
    '-map',
    '0:a',
    '-c',
    'copy',
    '-f',
    'dash',
    '-seg_duration',
    String(SEGMENT_SECONDS),
    '-use_template',
    '1',
    '-use_timeline',
    '0',
    '-init_seg_name',
    'init-$RepresentationID$.m4s',
    '-media_seg_name',
    'seg-$RepresentationID$-$Number%05d$.m4s',
    '-adaptation_sets',
    'id=0,streams=v id=1,streams=a',
    'dash/manifest.mpd',
  ]);
  steps.push(['-i', 'r1.mp4', '-c', 'copy', '-movflags', '+faststart', 'progressive.mp4']);
  steps.push([
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=320x180:rate=${FPS}:duration=${LONG_CLIP_SECONDS}`,
    ...x264,
    '-movflags',
    '+faststart',
    'long.mp4',
  ]);
  steps.push([
    ...source(640, 360),
    '-c:v',
    'libvpx-vp9',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-b:v',
    '600k',
    '-c:a',
    'libopus',
    '-b:a',
    '64k',
    'progressive.webm',
  ]);
  return steps;
}

/**
 * Makes the media (or finds it in the cache) and returns its directory.
 * Safe when two test files ask at once: each builds into its own temp dir
 * and the first rename wins.
 */
export function ensureMedia(cacheDir = process.env['OPENQOE_MEDIA_CACHE'] ?? DEFAULT_CACHE_DIR): string {
  const steps = recipe();
  const key = createHash('sha256').update(JSON.stringify(steps)).digest('hex').slice(0, 12);
  const dir = join(cacheDir, key);
  if (existsSync(join(dir, '.complete'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const sub of [
    'hls-ts/v0',
    'hls-ts/v1',
    'hls-ts/v2',
    'hls-fmp4/v0',
    'hls-fmp4/v1',
    'hls-fmp4/v2',
    'dash',
  ]) {
    mkdirSync(join(tmp, sub), { recursive: true });
  }
  for (const args of steps) {
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
      cwd: tmp,
      stdio: 'inherit',
    });
  }
  writeFileSync(join(tmp, '.complete'), key);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process finished first
  }
  return dir;
}
