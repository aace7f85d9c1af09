/**
 * CSV answers (RFC 4180) for the routes whose config has `csv`: when the
 * request's Accept prefers `text/csv` to JSON, the JSON the route serialised
 * is rewritten as CSV on its way out, so both carry the same numbers. The
 * rows are the answer's `data` (a list; one object is one row); nested
 * objects become dotted columns (`a.b`), lists are written as their JSON
 * text, null is an empty cell. Columns follow the route's response schema,
 * so an empty answer still has its header. Errors stay JSON envelopes.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

export interface CsvOptions {
  /** A list field of each row written as one CSV row per item, its columns `field.name`, the row's other fields repeated. */
  expand?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    csv?: CsvOptions;
  }
}

/** Route config of a route that answers CSV too. */
export const CSV_TOO = { csv: {} } satisfies { csv: CsvOptions };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/** True when Accept ranks text/csv above zero and at least as high as application/json. */
export function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  let csv = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) || 0 : 1;
    if (type === 'text/csv') csv = Math.max(csv, q);
    else if (type === 'application/json') json = Math.max(json, q);
  }
  return csv > 0 && csv >= json;
}

/** One cell, quoted when it holds a comma, a quote or a line break. */
export function csvCell(v: Json | undefined): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function schemaColumns(node: SchemaNode | undefined, prefix: string, out: string[]): string[] {
  if (node?.type === 'object' && node.properties)
    for (const [k, v] of Object.entries(node.properties))
      schemaColumns(v, prefix ? `${prefix}.${k}` : k, out);
  else out.push(prefix || 'value');
  return out;
}

function flatten(v: Json, prefix: string, out: Map<string, Json>): Map<string, Json> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v))
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  else out.set(prefix || 'value', v);
  return out;
}

/** The CSV text of an answer's `data`, its columns from the data's schema (`rowSchema`) first. */
export function toCsv(data: Json, rowSchema: SchemaNode | undefined, options: CsvOptions = {}): string {
  const { expand } = options;
  const columns = schemaColumns(rowSchema, '', []).flatMap((c) =>
    c === expand ? schemaColumns(rowSchema?.properties?.[c]?.items, c, []) : [c],
  );
  const rows: Map<string, Json>[] = [];
  for (const row of Array.isArray(data) ? data : [data]) {
    const items = expand && row && typeof row === 'object' && !Array.isArray(row) ? row[expand] : undefined;
    if (!Array.isArray(items)) {
      rows.push(flatten(row, '', new Map()));
      continue;
    }
    const { [expand!]: _list, ...rest } = row as Record<string, Json>;
    const parent = flatten(rest, '', new Map());
    // A row whose list is empty still shows its own fields.
    for (const item of items.length ? items : [{}]) rows.push(flatten(item, expand!, new Map(parent)));
  }
  // Fields the schema does not name (rows that allow more) follow, in order of appearance.
  const known = new Set(columns);
  for (const r of rows)
    for (const k of r.keys())
      if (!known.has(k)) {
        known.add(k);
        columns.push(k);
      }
  const lines = [columns.map((c) => csvCell(c)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r.get(c))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The schema of one row of a response schema's `data` (its items when a list). */
function rowSchemaOf(response: SchemaNode | undefined): SchemaNode | undefined {
  const data = response?.properties?.['data'];
  return data?.type === 'array' ? data.items : data;
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

/**
 * Makes the routes with `config.csv` answer CSV on request. Returns what adds
 * `text/csv` to their 200 answers in the OpenAPI document (swagger's transformObject).
 */
export function installCsvAnswers(app: FastifyInstance): <D extends object>(openapi: D) => D {
  const routes = new Map<string, { schema: SchemaNode | undefined; options: CsvOptions }>();
  app.addHook('onRoute', (route: RouteOptions) => {
    const options = route.config?.csv;
    if (!options) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema?.response as Record<number, SchemaNode> | undefined)?.[200];
    for (const m of methods) routes.set(`${m.toLowerCase()} ${openApiPath(route.url)}`, { schema, options });
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const csv = request.routeOptions.config.csv;
    if (!csv) return done(null, payload);
    const vary = reply.getHeader('vary');
    reply.header('vary', vary ? `${String(vary)}, Accept` : 'Accept');
    if (reply.statusCode !== 200 || typeof payload !== 'string' || !prefersCsv(request.headers.accept))
      return done(null, payload);
    const body = JSON.parse(payload) as { data: Json };
    const response = (request.routeOptions.schema?.response as Record<number, SchemaNode> | undefined)?.[200];
    reply.header('content-type', 'text/csv; charset=utf-8');
    done(null, toCsv(body.data, rowSchemaOf(response), csv));
  });
  return (openapi) => {
    const doc = openapi as { paths?: Record<string, Record<string, OpenApiOperation>> };
    for (const [path, ops] of Object.entries(doc.paths ?? {}))
      for (const [method, op] of Object.entries(ops)) {
        const route = routes.get(`${method} ${path}`);
        const content = op.responses?.['200']?.content;
        if (!route || !content) continue;
        const rowSchema = rowSchemaOf(route.schema);
        const example = (content['application/json']?.example as { data?: Json } | undefined)?.data;
        content['text/csv'] = {
          schema: {
            type: 'string',
            description:
              'With Accept: text/csv. The rows of `data`, a header row first (RFC 4180): nested objects as dotted ' +
              'columns, lists as JSON text, null as an empty cell.',
          },
          ...(example === undefined ? {} : { example: toCsv(example, rowSchema, route.options) }),
        };
      }
    return openapi;
  };
}

interface OpenApiOperation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown; example?: unknown }> }>;
}
