/**
 * A rollup of the views table: per environment, hour of the view's end and
 * a set of dimensions, one partial aggregation state per aggregate the query
 * API uses. The query API defines it (api/data/views-rollup.ts) and answers
 * from it where it can; a store that keeps one (ClickHouse) builds and
 * refreshes it.
 */
export interface RollupState {
  /** Column that holds the state. */
  column: string;
  /** The aggregate call as the query API writes it (whitespace collapsed). */
  key: string;
  /** The state expression over views columns, e.g. sumIfState(x, cond). */
  state: string;
}

export interface RollupDefinition {
  /** Table of the rollup's rows; its name changes with the definition, so a changed one is rebuilt. */
  name: string;
  /** Views columns kept per row, besides env_id and the hour. */
  dims: readonly string[];
  /**
   * The dimension sets rows are grouped by, numbered by position (the `gset` column): a row of set
   * k has the dimensions of that set filled and the others NULL. The empty set gives one row per
   * environment and hour for requests that neither filter nor group.
   */
  groupingSets: readonly (readonly string[])[];
  states: readonly RollupState[];
}

/** What a query needs to read a store's rollup. */
export interface RollupTables {
  definition: RollupDefinition;
  /**
   * Table of (rollup, env_id, hour, dirty, gen): an hour is answered from the rollup only while it
   * is clean, and only from the rows of its current generation.
   */
  hours: string;
}
