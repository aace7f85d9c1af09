/**
 * Ids of live streams and signing keys: random, URL-safe (base64url) and
 * never beginning with `-`. An id that begins with `-` reads as an option
 * to a command line (`openqoe live-streams delete -abc…`, curl, shell
 * tools), and one id in 64 would, so such draws are redrawn; a redraw
 * costs the id 6 of its bits at most, far from mattering at 96 bits.
 */
import { randomBytes } from 'node:crypto';

export function recordId(bytes: number, draw: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = draw(bytes).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
