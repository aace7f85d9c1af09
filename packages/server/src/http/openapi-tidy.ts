/**
 * Last touches to the OpenAPI document (/docs/json) so that the reference's
 * "Try it out" offers what the API accepts, whatever the route schemas'
 * TypeBox spelling:
 *
 * - A union of string literals (TypeBox `Type.Union([Type.Literal(…)])`) comes
 *   out as `anyOf` of one-value enums, which Swagger UI shows as a dropdown
 *   of the first value only: it becomes one `enum` of every value (their
 *   descriptions, if any, listed in the description).
 * - A query parameter with a default is optional to the caller (validation
 *   fills the default) but TypeBox marks it required: it is marked optional.
 */

type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{ type, enum: [v], description? }` members of one type, or undefined if the anyOf is anything else. */
function literalUnion(anyOf: unknown[]): { type: unknown; values: unknown[]; notes: string[] } | undefined {
  if (anyOf.length < 2) return undefined;
  const values: unknown[] = [];
  const notes: string[] = [];
  let type: unknown;
  for (const m of anyOf) {
    if (!isNode(m) || !Array.isArray(m['enum']) || m['enum'].length !== 1) return undefined;
    if (Object.keys(m).some((k) => k !== 'type' && k !== 'enum' && k !== 'description')) return undefined;
    if (type !== undefined && m['type'] !== type) return undefined;
    type = m['type'];
    values.push(m['enum'][0]);
    if (typeof m['description'] === 'string')
      notes.push(`- \`${String(m['enum'][0])}\`: ${m['description']}`);
  }
  return { type, values, notes };
}

function collapseEnums(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) collapseEnums(item);
    return;
  }
  if (!isNode(node)) return;
  const union = Array.isArray(node['anyOf']) ? literalUnion(node['anyOf']) : undefined;
  if (union) {
    delete node['anyOf'];
    node['type'] = union.type;
    node['enum'] = union.values;
    if (union.notes.length) {
      const lead = typeof node['description'] === 'string' ? `${node['description']}\n\n` : '';
      node['description'] = `${lead}${union.notes.join('\n')}`;
    }
  }
  for (const value of Object.values(node)) collapseEnums(value);
}

function optionalDefaults(paths: unknown): void {
  if (!isNode(paths)) return;
  for (const operations of Object.values(paths)) {
    if (!isNode(operations)) continue;
    for (const op of Object.values(operations)) {
      if (!isNode(op) || !Array.isArray(op['parameters'])) continue;
      for (const p of op['parameters']) {
        if (isNode(p) && p['in'] === 'query' && isNode(p['schema']) && p['schema']['default'] !== undefined)
          p['required'] = false;
      }
    }
  }
}

/** Tidies the generated document in place (it is built once and cached) and returns it. */
export function tidyOpenApi<T extends object>(doc: T): T {
  collapseEnums(doc);
  optionalDefaults((doc as Node)['paths']);
  return doc;
}
