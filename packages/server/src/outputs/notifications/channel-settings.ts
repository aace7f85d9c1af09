/**
 * What each channel type takes as settings, checked key by key so a refusal
 * names the field (`settings.url`), and split into what the API may show and
 * the write-only secret (each type has at most one). An update merges the
 * given keys over the stored ones, so a secret not given again is kept.
 */

export const CHANNEL_TYPES = ['webhook', 'slack', 'pagerduty', 'email', 'alertmanager'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export interface FieldProblem {
  path: string;
  problem: string;
}

export class ChannelSettingsError extends Error {
  constructor(readonly fields: FieldProblem[]) {
    super(fields.map((f) => `${f.path}: ${f.problem}`).join('; '));
    this.name = 'ChannelSettingsError';
  }
}

type Kind = 'url' | 'text' | 'port' | 'bool' | 'email' | 'emails' | 'positive';
interface Key {
  kind: Kind;
  required?: boolean;
  secret?: boolean;
}

/** Keys every type takes. */
const COMMON: Record<string, Key> = { rate_limit_per_minute: { kind: 'positive' } };

export const CHANNEL_KEYS: Record<ChannelType, Record<string, Key>> = {
  webhook: { url: { kind: 'url', required: true }, signing_secret: { kind: 'text', secret: true } },
  slack: { webhook_url: { kind: 'url', required: true, secret: true } },
  pagerduty: {
    routing_key: { kind: 'text', required: true, secret: true },
    events_url: { kind: 'url' },
  },
  email: {
    smtp_host: { kind: 'text', required: true },
    smtp_port: { kind: 'port' },
    smtp_secure: { kind: 'bool' },
    smtp_user: { kind: 'text' },
    smtp_password: { kind: 'text', secret: true },
    from: { kind: 'email', required: true },
    to: { kind: 'emails', required: true },
  },
  alertmanager: { url: { kind: 'url', required: true }, resend_interval_seconds: { kind: 'positive' } },
};

/** The name of the type's secret, if it has one. */
export function secretKey(type: ChannelType): string | undefined {
  return Object.entries(CHANNEL_KEYS[type]).find(([, k]) => k.secret)?.[0];
}

// One address: local@domain.tld, no spaces or angle brackets (a display name is not an address).
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

function problemOf(kind: Kind, v: unknown): string | undefined {
  switch (kind) {
    case 'url': {
      if (typeof v !== 'string') return 'must be a URL';
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        return 'must be a URL';
      }
      return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'must be an http(s) URL';
    }
    case 'text':
      return typeof v === 'string' && v.length > 0 && v.length <= 2048
        ? undefined
        : 'must be a non-empty string';
    case 'port':
      return Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536 ? undefined : 'must be a port';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'positive':
      return typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'must be a number above 0';
    case 'email':
      return typeof v === 'string' && EMAIL.test(v) ? undefined : 'must be an email address';
    case 'emails':
      return Array.isArray(v) && v.length > 0 && v.length <= 50 ? undefined : 'must list 1 to 50 addresses';
  }
}

/**
 * Checks `settings` for `type` (merged over `stored` on an update) and splits
 * them; throws ChannelSettingsError naming every bad field.
 */
export function parseChannelSettings(
  type: ChannelType,
  given: Record<string, unknown>,
  stored: Record<string, unknown> = {},
): { settings: Record<string, unknown>; secrets: Record<string, string> } {
  const keys = { ...COMMON, ...CHANNEL_KEYS[type] };
  const merged: Record<string, unknown> = { ...stored, ...given };
  const problems: FieldProblem[] = [];
  const settings: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const name of Object.keys(given))
    if (!keys[name])
      problems.push({ path: `settings.${name}`, problem: `is not a setting of a ${type} channel` });
  for (const [name, key] of Object.entries(keys)) {
    const v = merged[name];
    if (v === undefined || v === null) {
      if (key.required) problems.push({ path: `settings.${name}`, problem: 'is required' });
      continue;
    }
    const problem = problemOf(key.kind, v);
    if (problem) {
      problems.push({ path: `settings.${name}`, problem });
      continue;
    }
    if (key.kind === 'emails')
      (v as unknown[]).forEach((a, i) => {
        if (typeof a !== 'string' || !EMAIL.test(a))
          problems.push({ path: `settings.${name}[${i}]`, problem: 'must be an email address' });
      });
    if (key.secret) secrets[name] = v as string;
    else settings[name] = v;
  }
  if (problems.length) throw new ChannelSettingsError(problems);
  return { settings, secrets };
}
