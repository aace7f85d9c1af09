/**
 * Mux request events → request facts: the mean TTFB is taken over the
 * completed requests that carry both times, so a request without them (or a
 * failed one) neither adds 0 ms nor its own wait to it.
 */
import { describe, expect, it } from 'vitest';
import { muxPoint } from '../src/pipeline/view-model/normalize-mux.js';

const request = (event: string, times: Record<string, number>) =>
  muxPoint({ event, viewer_time: 10_000, player_sequence_number: 3, ...times }).requests;

describe('Mux request events', () => {
  it('a completed request with its start and first byte is timed', () => {
    expect(
      request('requestcompleted', {
        request_start: 1000,
        request_response_start: 1040,
        request_response_end: 1100,
      }),
    ).toMatchObject({ count: 1, failed: 0, ttfbTotalMs: 40, timed: 1, transferTotalMs: 60 });
  });

  it('a completed request without its first byte counts, untimed', () => {
    expect(request('requestcompleted', { request_start: 1000, request_response_end: 1100 })).toMatchObject({
      count: 1,
      ttfbTotalMs: 0,
      timed: 0,
    });
  });

  it('a failed request adds no time to first byte', () => {
    expect(
      request('requestfailed', {
        request_start: 1000,
        request_response_start: 1500,
        request_response_end: 1600,
      }),
    ).toMatchObject({ count: 0, failed: 1, ttfbTotalMs: 0, timed: 0 });
  });
});
