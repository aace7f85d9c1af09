/**
 * One loader for the configuration: defaults ← file (JSON or YAML) ←
 * environment (OPENQOE_*) ← flags, validated once. A bad key or value stops
 * the start with a message that names it.
 */
import { readFileSync } from 'node:fs';
import { type FieldProblem, Validator } from '@openqoe/schema';
import type { TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { type Config, ConfigSchema } from './config-schema.js';
import { DELIVERY_KEY_RENAMES, type KeyRename } from './delivery-config.js';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: FieldProblem[] = [],
  ) {
    super(
      problems.length
        ? `${message}\n${problems.map((p) => `  - ${p.path}: ${p.problem}`).join('\n')}`
        : message,
    );
    this.name = 'ConfigError';
  }
}

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Plain, v) : v;
  return out;
}

function setPath(target: Plain, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlain(node[key])) node[key] = {};
    node = node[key] as Plain;
  }
  node[path[path.length - 1]!] = value;
}

const upperSnake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

type Leaf = { path: string[]; schema: TSchema };

const leaves = (schema: TObject, prefix: string[] = []): Leaf[] =>
  Object.entries(schema.properties).flatMap(([key, child]: [string, TSchema]) => {
    const path = [...prefix, key];
    return child['type'] === 'object' && 'properties' in child
      ? leaves(child as TObject, path)
      : [{ path, schema: child }];
  });

/** Every key of the configuration (not its sections), in schema order. */
export const CONFIG_LEAVES = leaves(ConfigSchema);

/** OPENQOE_DATA_DIR, OPENQOE_INTAKE__RATE_LIMIT__PER_IP_PER_SECOND, … */
export function envVarName(path: string[]): string {
  return `OPENQOE_${path.map(upperSnake).join('__')}`;
}

/** Environment strings become the type the schema wants; a bad one is left for validation to name. */
function coerce(raw: string, schema: TSchema): unknown {
  const type = schema['type'];
  if (type === 'integer' || type === 'number') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
  }
  if (type === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    return raw;
  }
  if (type === 'array') return raw.split(',').flatMap((v) => (v.trim() ? [v.trim()] : []));
  return raw;
}

export function configFromEnv(env: NodeJS.ProcessEnv): Plain {
  const out: Plain = {};
  for (const leaf of CONFIG_LEAVES) {
    const raw = env[envVarName(leaf.path)];
    if (raw !== undefined) setPath(out, leaf.path, coerce(raw, leaf.schema));
  }
  return out;
}

export function readConfigFile(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlain(parsed)) throw new ConfigError(`config file ${file} must hold an object at the top level`);
  return parsed;
}

export interface LoadConfigOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, already shaped like the config. */
  flags?: Plain;
}

const validator = new Validator<Config>(ConfigSchema);

/** Warnings of each loaded config (old key names), logged by the server once its logger exists. */
const warningsOf = new WeakMap<Config, string[]>();

export function configWarnings(config: Config): readonly string[] {
  return warningsOf.get(config) ?? [];
}

/** Moves renamed keys to their new names, in place; one warning per key moved. */
function renameKeys(merged: Plain, renames: readonly KeyRename[]): string[] {
  const warnings: string[] = [];
  for (const { list, from, to } of renames) {
    let items: unknown = merged;
    for (const k of list) items = isPlain(items) ? items[k] : undefined;
    if (!Array.isArray(items)) continue;
    items.forEach((item, i) => {
      if (!isPlain(item) || !(from in item)) return;
      const key = `${list.join('.')}[${i}]`;
      if (to in item)
        warnings.push(`${key}.${from} is ignored: ${key}.${to} is set (${from} is its old name)`);
      else {
        item[to] = item[from];
        warnings.push(`${key}.${from} is an old name: use ${to} (the value was taken)`);
      }
      delete item[from];
    });
  }
  return warnings;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env['OPENQOE_CONFIG'];
  let merged: Plain = {};
  if (file) merged = deepMerge(merged, readConfigFile(file));
  merged = deepMerge(merged, configFromEnv(env));
  merged = deepMerge(merged, options.flags ?? {});
  // A copy: the caller's flags are not changed.
  merged = structuredClone(merged);
  const warnings = renameKeys(merged, DELIVERY_KEY_RENAMES);
  const withDefaults = Value.Default(ConfigSchema, merged);
  const result = validator.validate(withDefaults);
  if (!result.ok) {
    const source = file
      ? `${file}, OPENQOE_* environment variables or flags`
      : 'OPENQOE_* environment variables or flags';
    // Name the variable too, since a bad environment value shows up under its config key.
    const fields = result.fields.map((f) => {
      const leaf = CONFIG_LEAVES.find((l) => l.path.join('.') === f.path);
      const fromEnv = leaf && env[envVarName(leaf.path)] !== undefined;
      return fromEnv ? { ...f, problem: `${f.problem} (from ${envVarName(leaf.path)})` } : f;
    });
    throw new ConfigError(`invalid configuration (from ${source}):`, fields);
  }
  warningsOf.set(result.value, warnings);
  return result.value;
}
