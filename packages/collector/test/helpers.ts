/** A recording intake for unit tests: every body the transport sends, parsed and validated against the schema. */
import { type Beacon, validateBeacon } from '@openqoe/schema';
import type { SendFn, SendResult } from '../src/index.js';

export interface Recorder {
  send: SendFn;
  beacons: Beacon[];
  bodies: string[];
  /** Schema problems of refused bodies; a test expects none. */
  invalid: string[];
  /** Answers given in order; 202 once exhausted. */
  answers: SendResult[];
  samples(): Beacon['samples'];
  events(): Beacon['events'];
}

export function recorder(): Recorder {
  const r: Recorder = {
    beacons: [],
    bodies: [],
    invalid: [],
    answers: [],
    send: async (_url, body) => {
      r.bodies.push(body);
      const v = validateBeacon(JSON.parse(body));
      if (!v.ok) {
        r.invalid.push(JSON.stringify(v.fields));
        return { status: 400 };
      }
      const answer = r.answers.shift() ?? { status: 202 };
      if (answer.status === 202) r.beacons.push(v.value);
      return answer;
    },
    samples: () => r.beacons.flatMap((b) => b.samples).sort((a, b) => a.sequenceNumber - b.sequenceNumber),
    events: () => r.beacons.flatMap((b) => b.events).sort((a, b) => a.sequenceNumber - b.sequenceNumber),
  };
  return r;
}
