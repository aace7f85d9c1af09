/**
 * The keys every output destination shares (monitoring sinks, connectors):
 * its on-disk buffer, what happens when that is full, and the retry backoff.
 * One definition, so the sections cannot drift apart; each section keeps its
 * own documented defaults. Old names of these keys still work: the loader
 * renames them (`DELIVERY_KEY_RENAMES`) and warns at start-up.
 */
import { int, oneOf } from './config-keys.js';

/** The shared keys, with a section's own defaults (and the smallest buffer it takes). */
export function deliveryKeys(d: {
  bufferMaxBytes: number;
  bufferMinBytes: number;
  retryMaxBackoffMs: number;
}) {
  return {
    bufferMaxBytes: int(
      { minimum: d.bufferMinBytes, default: d.bufferMaxBytes },
      'Bound of the on-disk buffer of what the destination has not accepted yet',
    ),
    whenFull: oneOf(
      ['block', 'drop'],
      'block',
      'Buffer full: block (the pipeline waits, so the intake answers 429 once the log backlog is full; nothing acknowledged is lost) or drop (counted, logged)',
    ),
    retryInitialBackoffMs: int(
      { minimum: 1, default: 500 },
      'First retry backoff; it doubles per attempt (with jitter) up to retryMaxBackoffMs',
    ),
    retryMaxBackoffMs: int({ minimum: 1, default: d.retryMaxBackoffMs }, 'Longest retry backoff'),
  };
}

/** A key of the items of a list section that was renamed: `from` still works, with a warning. */
export interface KeyRename {
  list: readonly string[];
  from: string;
  to: string;
}

export const DELIVERY_KEY_RENAMES: readonly KeyRename[] = [
  { list: ['monitoring', 'sinks'], from: 'retryInitialDelayMs', to: 'retryInitialBackoffMs' },
  { list: ['monitoring', 'sinks'], from: 'retryMaxDelayMs', to: 'retryMaxBackoffMs' },
];
