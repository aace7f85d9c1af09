/**
 * Persistence of the live ingest: signing keys (public halves only), live
 * streams and their health history, as parameterised SQL on the store's
 * management connection, in the store's dialect.
 */
import type { SqlDialect } from './sql-dialect.js';
import type { ReadValue } from './store.js';

/** What the live ingest needs from the store: one parameterised statement at a time, and its dialect. */
export interface SqlRunner {
  readonly dialect: SqlDialect;
  execute(sql: string, params?: readonly unknown[]): Promise<Record<string, ReadValue>[]>;
}

export interface SigningKeyRecord {
  id: string;
  envId: string;
  /** SPKI PEM of the public key. */
  publicKeyPem: string;
  createdAtMs: number;
}

export interface LiveStreamRecord {
  id: string;
  envId: string;
  streamKey: string;
  createdAtMs: number;
}

export interface HealthRow {
  envId: string;
  liveStreamId: string;
  atMs: number;
  status: string;
  connected: boolean;
  driftMs: number | null;
  sessionAvgMs: number | null;
  deviationMs: number | null;
}

const num = (v: ReadValue): number | null => (v === null ? null : Number(v));

export class LiveStore {
  private readonly ts: (param: string) => string;
  private readonly latest: (table: string) => string;

  constructor(private readonly sql: SqlRunner) {
    this.ts = sql.dialect.msToTimestamp;
    this.latest = sql.dialect.latest;
  }

  async signingKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.sql.execute(
      `SELECT id, env_id, public_key, created_at FROM ${this.latest('signing_keys')} ORDER BY created_at, id`,
    );
    return rows.map((r) => ({
      id: String(r['id']),
      envId: String(r['env_id']),
      publicKeyPem: String(r['public_key']),
      createdAtMs: Number(r['created_at']),
    }));
  }

  async insertSigningKey(k: SigningKeyRecord): Promise<void> {
    await this.sql.execute(`INSERT INTO signing_keys VALUES ($1, $2, $3, ${this.ts('$4')})`, [
      k.id,
      k.envId,
      k.publicKeyPem,
      k.createdAtMs,
    ]);
  }

  async deleteSigningKey(id: string): Promise<void> {
    await this.sql.execute('DELETE FROM signing_keys WHERE id = $1', [id]);
  }

  async liveStreams(): Promise<LiveStreamRecord[]> {
    const rows = await this.sql.execute(
      `SELECT id, env_id, stream_key, created_at FROM ${this.latest('live_streams')} ORDER BY created_at, id`,
    );
    return rows.map((r) => ({
      id: String(r['id']),
      envId: String(r['env_id']),
      streamKey: String(r['stream_key']),
      createdAtMs: Number(r['created_at']),
    }));
  }

  async insertLiveStream(s: LiveStreamRecord): Promise<void> {
    await this.sql.execute(`INSERT INTO live_streams VALUES ($1, $2, $3, ${this.ts('$4')})`, [
      s.id,
      s.envId,
      s.streamKey,
      s.createdAtMs,
    ]);
  }

  async deleteLiveStream(id: string): Promise<void> {
    await this.sql.execute('DELETE FROM live_streams WHERE id = $1', [id]);
  }

  async insertHealth(rows: readonly HealthRow[]): Promise<void> {
    if (rows.length === 0) return;
    const values: unknown[] = [];
    const tuples = rows.map((r) => {
      const b = values.length;
      values.push(
        r.envId,
        r.liveStreamId,
        r.atMs,
        r.status,
        r.connected,
        r.driftMs,
        r.sessionAvgMs,
        r.deviationMs,
      );
      return `($${b + 1}, $${b + 2}, ${this.ts(`$${b + 3}`)}, $${b + 4}, $${b + 5}, $${b + 6}::DOUBLE, $${b + 7}::DOUBLE, $${b + 8}::DOUBLE)`;
    });
    await this.sql.execute(`INSERT INTO live_stream_health VALUES ${tuples.join(', ')}`, values);
  }

  /** Health rows of one stream since a time, oldest first. */
  async health(envId: string, liveStreamId: string, sinceMs: number, limit: number): Promise<HealthRow[]> {
    const rows = await this.sql.execute(
      `SELECT measured_at, status, connected, stream_drift_ms, stream_drift_session_avg_ms,
              stream_drift_deviation_from_rolling_avg_ms
       FROM live_stream_health
       WHERE env_id = $1 AND live_stream_id = $2 AND measured_at >= ${this.ts('$3')}
       ORDER BY measured_at LIMIT $4::BIGINT`,
      [envId, liveStreamId, sinceMs, limit],
    );
    return rows.map((r) => ({
      envId,
      liveStreamId,
      atMs: Number(r['measured_at']),
      status: String(r['status']),
      connected: Boolean(r['connected']),
      driftMs: num(r['stream_drift_ms'] ?? null),
      sessionAvgMs: num(r['stream_drift_session_avg_ms'] ?? null),
      deviationMs: num(r['stream_drift_deviation_from_rolling_avg_ms'] ?? null),
    }));
  }
}
