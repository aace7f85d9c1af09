/**
 * The Mux beacon protocol's key minification, undone. A key's first
 * snake_case word is one letter, each later word two letters; a word missing
 * from the dictionary travels as itself (`word_` first, `_word_` later) and
 * integer words as their digits. The dictionaries are the published ones
 * (docs/compatibility.md), plus the few words current `mux-embed` releases
 * added (`channels`, `cmcd`, `data`, `low`, `sid`).
 */

/** A table of `code word` pairs, in the published order (which decides a word's code when it has two). */
function dictionary(table: string): Record<string, string> {
  const cells = table.trim().split(/\s+/);
  const out: Record<string, string> = {};
  for (let i = 0; i < cells.length; i += 2) out[cells[i]!] = cells[i + 1]!;
  return out;
}

const FIRST_WORDS = dictionary(`
  a env         b beacon      c custom      d ad          e event       f experiment  i internal
  m mux         n response    p player      q request     r retry       s session     t timestamp
  u viewer      v video       w page        x view        y sub
`);

const LATER_WORDS = dictionary(`
  ad ad           af affiliate    ag aggregate    ap api          al application  ao audio
  ar architecture as asset        au autoplay     av average      bi bitrate      bn brand
  br break        bw browser      by bytes        bz business     ca cached       cb cancel
  cc codec        cd code         cg category     ch changed      ci client       cj channels
  ck clicked      cl canceled     cm cmcd         cn config       co count        ce counter
  cp complete     cq creator      cr creative     cs captions     ct content      cu current
  cv cumulative   cx connection   cz context      da data         dg downscaling  dm domain
  dn cdn          do downscale    dr drm          dp dropped      du duration     dv device
  dy dynamic      eb enabled      ec encoding     ed edge         en end          eg engine
  em embed        er error        ep experiments  es errorcode    et errortext    ee event
  ev events       ex expires      ez exception    fa failed       fi first        fm family
  ft format       fp fps          fq frequency    fr frame        fs fullscreen   ha has
  hb holdback     he headers      ho host         hn hostname     ht height       id id
  ii init         in instance     ip ip           is is           ke key          la language
  lb labeled      le level        li live         ld loaded       lo load         lw low
  ls lists        lt latency      ma max          md media        me message      mf manifest
  mi mime         ml midroll      mm min          mn manufacturer mo model        mp mode
  ms ms           mx mux          ne newest       nm name         no number       on on
  or origin       os os           pa paused       pb playback     pd producer     pe percentage
  pf played       pg program      ph playhead     pi plugin       pl preroll      pn playing
  po poster       pp pip          pr preload      ps position     pt part         pv previous
  py property     px pop          pz plan         ra rate         rd requested    re rebuffer
  rf rendition    rg range        rm remote       ro ratio        rp response     rq request
  rs requests     sa sample       sd skipped      se session      sh shift        si sid
  sk seek         sm stream       so source       sq sequence     sr series       ss status
  st start        su startup      sv server       sw software     sy severity     ta tag
  tc tech         te text         tg target       th throughput   ti time         tl total
  to to           tr track        tt title        ty type         ug upscaling    un universal
  up upscale      ur url          us user         va variant      vd viewed       vi video
  ve version      vw view         vr viewer       wd width        wa watch        wt waiting
`);

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * The full key of a minified one (`xsqno` → `view_sequence_number`), or
 * undefined when it does not decode (an unknown code): such a key is kept
 * as sent. Every Mux SDK minifies, so full keys are not expected on the wire.
 */
export function decodeKey(key: string): string | undefined {
  if (key.length === 0) return undefined;
  const words: string[] = [];
  let i: number;
  const firstUnderscore = key.indexOf('_');
  if (firstUnderscore > 1 || (firstUnderscore === 1 && !(key[0]! in FIRST_WORDS))) {
    // An unknown first word travels as `word_`.
    words.push(key.slice(0, firstUnderscore));
    i = firstUnderscore + 1;
  } else {
    const first = FIRST_WORDS[key[0]!];
    if (!first) return undefined;
    words.push(first);
    i = 1;
  }
  while (i < key.length) {
    const c = key[i]!;
    if (c === '_') {
      const end = key.indexOf('_', i + 1);
      if (end < 0) return undefined;
      words.push(key.slice(i + 1, end));
      i = end + 1;
    } else if (isDigit(c)) {
      let j = i;
      while (isDigit(key[j])) j++;
      words.push(key.slice(i, j));
      i = j;
    } else {
      const word = LATER_WORDS[key.slice(i, i + 2)];
      if (!word) return undefined;
      words.push(word);
      i += 2;
    }
  }
  return words.join('_');
}

const cache = new Map<string, string>();
const CACHE_MAX = 10_000;

/** The full form of a wire key; unknown codes stay as sent. Cached: the same few hundred keys repeat. */
export function expandKey(key: string): string {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const full = decodeKey(key) ?? key;
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, full);
  return full;
}

const reverseFirst = invert(FIRST_WORDS);
const reverseLater = invert(LATER_WORDS);

/** The minified form of a full key (for tests and the benchmark's traffic), by the SDK's own rule. */
export function minifyKey(full: string): string {
  const [first, ...rest] = full.split('_');
  let out = reverseFirst[first!] ?? `${first}_`;
  for (const w of rest) {
    if (reverseLater[w]) out += reverseLater[w];
    else if (Number.isInteger(Number(w)) && w !== '') out += w;
    else out += `_${w}_`;
  }
  return out;
}

function invert(table: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(table)) out[v] ??= k;
  return out;
}
