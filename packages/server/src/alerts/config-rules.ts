/**
 * Rules of the config file (`alerts.rules`): each checked like an API body,
 * with every bad field named by its place in the file, for an environment
 * given by id or name. They are read-only through the API.
 */
import type { Registry } from '../auth/registry.js';
import type { Config } from '../config/config-schema.js';
import { ApiError } from '../http/api-error.js';
import { checkRule, type Rule } from './alert-rules.js';

export async function configRules(
  rules: Config['alerts']['rules'],
  registry: Registry,
  hasChannel: (envId: string, channelId: string) => Promise<boolean>,
  nowMs: number,
): Promise<Rule[]> {
  const out: Rule[] = [];
  const problems: string[] = [];
  for (const [i, { id, environment, ...body }] of rules.entries()) {
    const env =
      registry.environment(environment) ?? registry.environments().find((e) => e.name === environment);
    if (!env) {
      problems.push(
        `alerts.rules[${i}].environment: no environment with the id or name ${JSON.stringify(environment)}`,
      );
      continue;
    }
    if (out.some((r) => r.id === id)) problems.push(`alerts.rules[${i}].id: ${id} is used by another rule`);
    try {
      const spec = await checkRule(body, (c) => hasChannel(env.id, c), `alerts.rules[${i}].`);
      out.push({ id, envId: env.id, source: 'config', spec, createdAtMs: nowMs, updatedAtMs: nowMs });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      problems.push(...err.fields.map((f) => `${f.path}: ${f.problem}`));
    }
  }
  if (problems.length) throw new Error(`config: bad alert rules:\n  ${problems.join('\n  ')}`);
  return out;
}
