// @ts-check
/**
 * The server's dependency rules (packages/server/src), checked by
 * dependency-cruiser in `npm run check` and `npm test`:
 *
 *   npx depcruise packages/server/src --config .dependency-cruiser.cjs
 *
 * The server is laid out by folder, following the data (docs/architecture.md).
 * These rules keep that layout honest: a folder imports only the folders
 * below it, so no two folders ever need each other, and no file needs itself
 * through a chain of imports. Type-only imports count like any other: a type
 * that two folders both need belongs below both of them.
 *
 * A "unit" is a top-level folder of packages/server/src (`store`, `pipeline`,
 * ...) or one of its top-level files (`cli.ts`, `index.ts`, `version.ts`).
 *
 * Layer order, bottom first (derived from the imports as they are: each unit
 * sits one layer above the highest unit it imports):
 *
 *   0  config, observability, version.ts   settings, metrics registry, version string
 *      store                               the store contract, row types, DuckDB and ClickHouse
 *      bus                                 the intake→pipeline contract and its transports
 *   1  auth                                tokens and environments (kept in the store)
 *      pipeline                            bus consumer, dedupe, view model, enrichment, real-time
 *   2  http                                error envelope, auth hook, paging
 *      outputs                             monitoring stream and connectors (read pipeline's views)
 *      cli                                 the CLI's commands (admin client, generators)
 *   3  query                               metric catalog, scopes, rollups (for api and cluster)
 *      intake                              beacon, Mux and CMCD routes (write to the bus)
 *      live                                RTMP ingest, live streams and their routes
 *   4  alerts                              alert rules, evaluation, incidents, silences (over query and store)
 *   5  api                                 route plugins
 *      cluster                             NATS hand-offs and shared real-time state
 *   6  main                                assembly: builds and starts everything
 *   7  cli.ts, index.ts                    entry points
 *
 * Units in one layer do not import each other. MAY_IMPORT below lists, per
 * unit, exactly the units it imports today: it is as strict as the code
 * allows, so any new edge between folders is a decision made here, in review.
 * Adding an edge that points sideways or up is refused when this file loads
 * (the layer order would no longer hold); moving a unit to another layer is
 * then a design change, to be made in docs/architecture.md too.
 */
'use strict';

const SRC = 'packages/server/src/';

/** @type {string[][]} Units by layer, bottom first (see the table above). */
const LAYERS = [
  ['config', 'observability', 'version.ts', 'store', 'bus'],
  ['auth', 'pipeline'],
  ['http', 'outputs', 'cli'],
  ['query', 'intake', 'live'],
  ['alerts'],
  ['api', 'cluster'],
  ['main'],
  ['cli.ts', 'index.ts'],
];

/**
 * What each unit may import besides itself: exactly what it imports today.
 * @type {Record<string, string[]>}
 */
const MAY_IMPORT = {
  // Leaves: the settings, the metrics registry and the version string are read everywhere.
  config: [],
  observability: [],
  'version.ts': [],
  // The store is the bottom of the data path: it knows nothing of who writes or reads it,
  // so either store (DuckDB, ClickHouse) can be tested and swapped on its own.
  store: [],
  // The bus carries intake records (its own contract, intake-record.ts): it knows neither the
  // intakes that publish nor the pipeline that consumes.
  bus: [],
  // Tokens and environments live in the store (type of the store only).
  auth: ['store'],
  // The pipeline consumes the bus and writes views to the store; it never reaches up into the
  // routes, the query layer or the outputs that read its views.
  pipeline: ['bus', 'observability', 'store'],
  // HTTP plumbing shared by every route folder: the auth registry; the connection limits of every
  // listener (http/connection-guard.ts) read their settings and count in the metrics registry.
  http: ['auth', 'config', 'observability'],
  // Outputs read the pipeline's view snapshots; they serve no route and query nothing. Their delivery
  // queues are the embedded bus's segment log (outputs/delivery/disk-queue.ts): one on-disk log format.
  // Notification channels are kept in the store (outputs/notifications/, store/notification-channel-store.ts).
  outputs: ['bus', 'config', 'observability', 'pipeline', 'store', 'version.ts'],
  // The CLI's commands read the admin credentials the first start left (auth/bootstrap.ts) and
  // talk to a running server over HTTP: they build nothing of the server themselves. They load the
  // config only to look in the data dir `serve` would use for the server's URL (cli/server-url.ts).
  cli: ['auth', 'config'],
  // The query layer sits between the routes and the store, reading the pipeline's real-time state.
  query: ['auth', 'http', 'pipeline', 'store'],
  // The intakes validate and publish to the bus; they do not reach into the pipeline (the CMCD
  // report type is the bus's: bus/intake-record.ts).
  intake: ['auth', 'bus', 'config', 'http', 'observability', 'store'],
  // Live ingest keeps its streams in the store and counts viewers from the pipeline's views.
  live: ['auth', 'config', 'http', 'observability', 'pipeline', 'store'],
  // Alerting evaluates real-time aggregates and windowed view metrics (the query layer's catalogs),
  // keeps its rules and incidents in the store and hands transitions to the notifications output.
  alerts: ['auth', 'config', 'http', 'outputs', 'pipeline', 'query', 'store'],
  // Route plugins: over the query layer, the store, the pipeline's real-time state and alerting;
  // the notification channels' routes manage the notifications output's channels (and test-send).
  api: ['alerts', 'auth', 'bus', 'http', 'observability', 'outputs', 'pipeline', 'query', 'store'],
  // Cluster pieces share pipeline and live state across nodes; no route imports them.
  cluster: ['auth', 'bus', 'http', 'live', 'pipeline', 'query', 'store'],
  // Assembly: the only unit that sees (almost) everything, and nothing but the entry points imports it.
  main: [
    'alerts',
    'api',
    'auth',
    'bus',
    'cluster',
    'config',
    'http',
    'intake',
    'live',
    'observability',
    'outputs',
    'pipeline',
    'query',
    'store',
    'version.ts',
  ],
  'cli.ts': ['cli', 'config', 'main', 'version.ts'],
  'index.ts': ['config', 'main'],
};

// --- The table must describe a layer order; refuse to load otherwise. ---
/** @type {Map<string, number>} */
const layerOf = new Map(
  LAYERS.flatMap((units, i) => units.map((u) => /** @type {[string, number]} */ ([u, i]))),
);
for (const unit of layerOf.keys()) {
  if (!(unit in MAY_IMPORT))
    throw new Error(`.dependency-cruiser.cjs: ${unit} is in LAYERS but not in MAY_IMPORT`);
}
for (const [unit, targets] of Object.entries(MAY_IMPORT)) {
  const layer = layerOf.get(unit);
  if (layer === undefined)
    throw new Error(`.dependency-cruiser.cjs: ${unit} is in MAY_IMPORT but not in LAYERS`);
  for (const target of targets) {
    const below = layerOf.get(target);
    if (below === undefined || below >= layer) {
      throw new Error(
        `.dependency-cruiser.cjs: ${unit} (layer ${layer}) may not import ${target} (layer ${below}): ` +
          'a unit imports only units in lower layers',
      );
    }
  }
}

/** Regex for the modules of a unit: a folder's whole tree, or one top-level file. */
const unitPath = (/** @type {string} */ unit) =>
  unit.endsWith('.ts') ? `^${SRC}${unit.replace(/\./g, '\\.')}$` : `^${SRC}${unit}/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Files import each other in a cycle. Move what they share (often types) into a module of its ' +
        'own that both import, as pipeline/view-model/view-items.ts does for the view items.',
      from: { path: `^${SRC}` },
      to: { circular: true },
    },
    {
      // dependency-cruiser's folder scope: each folder's imports are the union of its files'
      // imports, so a/x.ts → b/y.ts plus b/z.ts → a/w.ts is a cycle between a/ and b/ even though
      // no file cycle exists. It covers sub-folders too: pipeline/view-model and pipeline/realtime
      // stay one-way (the tracker's per-view state, Followed, lives in view-model, which holds it).
      // A folder's import of a file in a deeper folder (a/x.ts → b/sub/y.ts) counts as an import of
      // b/sub, not b, so this rule alone can miss a top-level cycle through sub-folders; the layer
      // rules below cannot (every import between units goes down), this one adds sub-folders.
      name: 'no-folder-cycle',
      severity: 'error',
      scope: 'folder',
      comment:
        'Folders import each other in a cycle. Move what they share into the lower of the two, ' +
        'or into a folder below both.',
      from: { path: `^${SRC}` },
      to: { circular: true },
    },
    ...Object.entries(MAY_IMPORT).map(([unit, targets]) => ({
      name: `layer-${unit}`,
      severity: /** @type {const} */ ('error'),
      comment:
        (targets.length
          ? `${unit} (layer ${layerOf.get(unit)}) may import, besides itself, only ${targets.join(', ')}.`
          : `${unit} (layer ${layerOf.get(unit)}) imports nothing outside itself.`) +
        ' Layer order and the reasons: .dependency-cruiser.cjs (MAY_IMPORT).',
      from: { path: unitPath(unit) },
      to: { path: `^${SRC}`, pathNot: [unitPath(unit), ...targets.map(unitPath)] },
    })),
    {
      // A new top-level folder or file must be given its place in the layers before it is used:
      // otherwise it would sit outside every rule above.
      name: 'unplaced-module',
      severity: 'error',
      comment:
        'This module is in no unit of .dependency-cruiser.cjs: add its folder to LAYERS and MAY_IMPORT.',
      from: { path: `^${SRC}`, pathNot: Object.keys(MAY_IMPORT).map(unitPath) },
      to: {},
    },
  ],
  options: {
    // Only the server's own modules: the rules are about its folders, not its packages.
    includeOnly: `^${SRC}`,
    // Type-only imports are dependencies of the design even though tsc erases them.
    tsPreCompilationDeps: true,
  },
};
