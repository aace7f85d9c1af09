/**
 * @openqoe/generator: the synthetic views of `openqoe generate`, one complete
 * native beacon per view, drawn from the distribution docs/generator.md
 * states, and the live mode's schedule (live.ts), which plays those views on
 * a clock with a number of viewers in progress.
 *
 * The package is pure: it builds beacons and the headers they should be sent
 * with, and nothing else. No clock (the caller passes the time window), no
 * Math.random (the caller passes the seed), no network, no Node API, so the
 * same code serves the CLI, the benchmarks and the tests, and a view is a
 * function of (seed, index) alone. Sending is the caller's: the server's
 * `openqoe generate` (packages/server/src/cli/generate.ts) owns the command,
 * its credentials (bootstrap.json, access tokens), the HTTP retries and the
 * progress line, all of which belong to the server's CLI and its intake
 * rather than to the distribution.
 */

export {
  audienceShare,
  rebufferShape,
  type ShapeOptions,
  shapedMinute,
  viewersAt,
} from './daily-shape.js';
export {
  CATALOGUE,
  CDNS,
  type CdnProfile,
  COUNTRIES,
  catalogueEntry,
  countryNetwork,
  DEVICES,
  type DeviceProfile,
  EVENTS,
  EXPERIMENTS,
  HEARTBEAT_MS,
  LADDER,
  OUTCOMES,
  PLAYER_VERSIONS,
  type PlayerSoftware,
  STREAM_TYPE_MIX,
  SUB_PROPERTIES,
  TIMES,
  VIEWERS,
  type Weighted,
} from './distribution.js';
export { cutSample, LIVE, type LiveBeacon, LiveRun, type LiveRunOptions, type LiveTally } from './live.js';
export { mulberry32 } from './random.js';
export {
  type SyntheticView,
  syntheticView,
  type ViewKind,
  type ViewRequest,
  viewStartingAt,
} from './view.js';
