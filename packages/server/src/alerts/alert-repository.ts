/**
 * Where alerting keeps its state, in either store (migration 2 of each):
 * rules made through the API, silences, incidents and their transitions.
 * Each row is replaced whole by id — `INSERT OR REPLACE` on DuckDB, a newer
 * `version` of a ReplacingMergeTree row read with FINAL on ClickHouse — on
 * the store's management connection, as live streams are.
 */
import type { SqlRunner } from '../store/live-store.js';
import type { ReadValue } from '../store/store.js';
import type { Rule } from './alert-rules.js';
import type { IncidentRecord, IncidentStatus, TransitionRecord } from './incident.js';
import type { SilenceRecord } from './silences.js';

export interface IncidentQuery {
  envIds: readonly string[];
  status?: IncidentStatus | undefined;
  severity?: string | undefined;
  ruleId?: string | undefined;
  /** Incidents open at some time in [fromMs, toMs). */
  fromMs?: number | undefined;
  toMs?: number | undefined;
  limit: number;
  offset: number;
}

export class AlertRepository {
  private lastVersion = 0;

  constructor(private readonly sql: SqlRunner) {}

  /** A version above every earlier one of this process (microseconds of the wall clock). */
  private version(): number {
    this.lastVersion = Math.max(this.lastVersion + 1, Date.now() * 1000);
    return this.lastVersion;
  }

  /** Writes rows (distinct ids) in one statement, each replacing the row of its id. */
  private async replace(table: string, rows: unknown[][]): Promise<void> {
    if (rows.length === 0) return;
    const verb = this.sql.dialect.name === 'duckdb' ? 'INSERT OR REPLACE INTO' : 'INSERT INTO';
    const params: unknown[] = [];
    const tuples = rows.map((values) => {
      const at = params.length;
      params.push(...values, this.version());
      return `(${[...values, 0].map((_, i) => `$${at + i + 1}`).join(', ')})`;
    });
    await this.sql.execute(`${verb} ${table} VALUES ${tuples.join(', ')}`, params);
  }

  private async bodies<T>(table: string, where = '', params: unknown[] = []): Promise<T[]> {
    const rows = await this.sql.execute(
      `SELECT body FROM ${this.sql.dialect.latest(table)} ${where}`,
      params,
    );
    return rows.map((r) => JSON.parse(String(r['body'])) as T);
  }

  rules(): Promise<Rule[]> {
    return this.bodies<Rule>('alert_rules');
  }

  saveRule(rule: Rule): Promise<void> {
    return this.replace('alert_rules', [[rule.id, rule.envId, JSON.stringify(rule)]]);
  }

  async deleteRule(id: string): Promise<void> {
    await this.sql.execute('DELETE FROM alert_rules WHERE id = $1', [id]);
  }

  silences(): Promise<SilenceRecord[]> {
    return this.bodies<SilenceRecord>('alert_silences');
  }

  saveSilence(s: SilenceRecord): Promise<void> {
    return this.replace('alert_silences', [[s.id, s.envId, JSON.stringify(s)]]);
  }

  async deleteSilence(id: string): Promise<void> {
    await this.sql.execute('DELETE FROM alert_silences WHERE id = $1', [id]);
  }

  saveIncidents(incidents: readonly IncidentRecord[]): Promise<void> {
    return this.replace(
      'alert_incidents',
      incidents.map((i) => [
        i.id,
        i.envId,
        i.ruleId,
        i.status,
        i.severity,
        i.startedAtMs,
        // 0: not resolved (one integer type on both stores, never a typed NULL).
        i.resolvedAtMs ?? 0,
        JSON.stringify(i),
      ]),
    );
  }

  openIncidents(): Promise<IncidentRecord[]> {
    return this.bodies<IncidentRecord>('alert_incidents', "WHERE status <> 'resolved'");
  }

  async incident(id: string): Promise<IncidentRecord | undefined> {
    return (await this.bodies<IncidentRecord>('alert_incidents', 'WHERE id = $1', [id]))[0];
  }

  async incidents(q: IncidentQuery): Promise<{ rows: IncidentRecord[]; total: number }> {
    if (q.envIds.length === 0) return { rows: [], total: 0 };
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const clauses = [`env_id IN (${q.envIds.map(p).join(', ')})`];
    if (q.status) clauses.push(`status = ${p(q.status)}`);
    if (q.severity) clauses.push(`severity = ${p(q.severity)}`);
    if (q.ruleId) clauses.push(`rule_id = ${p(q.ruleId)}`);
    if (q.toMs !== undefined) clauses.push(`started_at < ${p(q.toMs)}`);
    if (q.fromMs !== undefined) clauses.push(`(resolved_at = 0 OR resolved_at >= ${p(q.fromMs)})`);
    const from = `${this.sql.dialect.latest('alert_incidents')} WHERE ${clauses.join(' AND ')}`;
    const [count] = await this.sql.execute(`SELECT count(*) AS n FROM ${from}`, params);
    const rows = await this.sql.execute(
      `SELECT body FROM ${from} ORDER BY started_at DESC, id LIMIT ${Math.trunc(q.limit)} OFFSET ${Math.trunc(q.offset)}`,
      params,
    );
    return {
      rows: rows.map((r) => JSON.parse(String(r['body'])) as IncidentRecord),
      total: Number(count?.['n'] ?? 0),
    };
  }

  saveTransitions(transitions: readonly TransitionRecord[]): Promise<void> {
    return this.replace(
      'alert_transitions',
      transitions.map((t) => [
        t.id,
        t.incidentId,
        t.envId,
        t.ruleId,
        t.transition,
        t.atMs,
        t.delivery,
        JSON.stringify(t),
      ]),
    );
  }

  private async transitionsWhere(where: string, params: unknown[]): Promise<TransitionRecord[]> {
    const rows = await this.sql.execute(
      `SELECT notice FROM ${this.sql.dialect.latest('alert_transitions')} WHERE ${where} ORDER BY at_ms, id`,
      params,
    );
    return rows.map((r: Record<string, ReadValue>) => JSON.parse(String(r['notice'])) as TransitionRecord);
  }

  transitions(incidentId: string): Promise<TransitionRecord[]> {
    return this.transitionsWhere('incident_id = $1', [incidentId]);
  }

  /** Transitions recorded but not yet handed to the notifier (a kill between the two). */
  pendingTransitions(): Promise<TransitionRecord[]> {
    return this.transitionsWhere("delivery = 'pending'", []);
  }
}
