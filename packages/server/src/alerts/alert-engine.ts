/**
 * The alert engine: holds the rules (config file and API), silences and the
 * state of every series a rule covers; evaluates real-time rules at every
 * tick and windowed rules on their own interval; opens, acknowledges and
 * resolves incidents (a whole-environment one opens with its root-cause
 * hint, root-cause.ts). A transition is written to the store (incident and
 * transition row, delivery `pending`) before the notifier is called, and
 * marked `queued` once the notifier holds it: a kill between the two sends
 * it again at the next start (same de-duplication key), a kill before the
 * write loses nothing the store had. On start, open incidents and their
 * resolve timers come back from the store.
 */
import { randomUUID } from 'node:crypto';
import type { Registry } from '../auth/registry.js';
import { ApiError } from '../http/api-error.js';
import type { IncidentNotice, Notifier } from '../outputs/notifications/incident-notice.js';
import { entry } from '../pipeline/realtime/map-entry.js';
import { REALTIME_METRICS, type RealtimeMetricId } from '../pipeline/realtime/realtime-catalog.js';
import type { RealtimeTotals } from '../pipeline/realtime/realtime-tracker.js';
import { METRICS } from '../query/metric-catalog.js';
import type { FilteredRealtime } from '../query/realtime/filtered-realtime.js';
import { parseRealtimeFilters, type RealtimeFilter } from '../query/realtime/monitoring-filters.js';
import { Serial } from '../store/serial.js';
import type { Store } from '../store/store.js';
import type { AlertRepository } from './alert-repository.js';
import type { Rule, RuleSpec } from './alert-rules.js';
import type { AnomalyVerdict } from './anomaly-baseline.js';
import { anomalySamples, sharedReads } from './anomaly-series.js';
import {
  type Delivery,
  dedupKeyOf,
  type IncidentRecord,
  noticeOf,
  type TransitionRecord,
} from './incident.js';
import { exampleViews, realtimeSeries, sampleOf, WHOLE } from './realtime-series.js';
import { hintAtTick, type RootCauseHint } from './root-cause.js';
import type { SeriesHistory, WrittenMinute } from './series-history.js';
import { mutes, type SilenceRecord } from './silences.js';
import {
  breaching,
  operatorOf,
  type SeriesSample,
  stepThreshold,
  type ThresholdState,
  worse,
} from './threshold.js';
import { windowExamples, windowSeries } from './window-series.js';

/** Series of one rule that may breach or be open at once; past it new ones are skipped (and logged once per rule). */
const MAX_SERIES = 10_000;
const EXAMPLES = 5;
/** An open incident's running values (worst, audience, examples) are written at most this often. */
const SAVE_EVERY_MS = 15_000;

type Changed = { inc: IncidentRecord; transition: TransitionRecord['transition'] };

interface Series extends ThresholdState {
  incident?: IncidentRecord | undefined;
  savedMs: number;
}

export interface AlertLog {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

export interface AlertEngineDeps<T extends RealtimeTotals> {
  repository: AlertRepository;
  /** The store windowed rules query. */
  store: Store;
  registry: Registry;
  notifier: Notifier;
  /** Filtered real-time numbers (this process's views, or a cluster's workers). */
  filtered: FilteredRealtime<T>;
  /** Rules of the config file, checked (read-only through the API). */
  configRules: readonly Rule[];
  /**
   * The series minute history: anomaly rules learn from it, whole-environment incidents' root-cause
   * hints compare with it (none: anomaly rules are not evaluated, hints have no "before").
   */
  history?: Pick<SeriesHistory, 'sums' | 'around'>;
  /** The server's public base URL, for links in notifications. */
  baseUrl: () => string;
  log: AlertLog;
  now?: () => number;
  /** Told how long each evaluation took (seconds, wall and the process's CPU): a real-time tick, or one windowed rule. */
  evaluated?: (kind: 'realtime' | 'window', seconds: number, cpuSeconds: number) => void;
}

export class AlertEngine<T extends RealtimeTotals = RealtimeTotals> {
  readonly rules = new Map<string, Rule>();
  readonly silences = new Map<string, SilenceRecord>();
  private readonly series = new Map<string, Map<string, Series>>();
  private readonly filters = new Map<string, RealtimeFilter>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lane = new Serial();
  private unsent: TransitionRecord[] = [];
  private readonly overflowed = new Set<string>();
  /** Anomaly rules: each series' verdict at the last minute evaluated. */
  readonly verdicts = new Map<string, Map<string, AnomalyVerdict & { minuteMs: number }>>();
  private closed = false;
  readonly now: () => number;

  constructor(private readonly deps: AlertEngineDeps<T>) {
    this.now = deps.now ?? Date.now;
  }

  /** Loads rules, silences and open incidents, and sends what a previous run recorded but never handed over. */
  async start(): Promise<void> {
    const repo = this.deps.repository;
    for (const r of this.deps.configRules) this.rules.set(r.id, r);
    for (const r of await repo.rules()) {
      if (this.rules.has(r.id))
        throw new Error(`alert rule ${r.id} is both in the config file and in the store`);
      this.rules.set(r.id, r);
    }
    for (const s of await repo.silences()) this.silences.set(s.id, s);
    const nowMs = this.now();
    const orphans: IncidentRecord[] = [];
    for (const inc of await repo.openIncidents()) {
      if (!this.rules.has(inc.ruleId) || !this.rules.get(inc.ruleId)!.spec.enabled) orphans.push(inc);
      else
        this.seriesOf(inc.ruleId).set(inc.breakdownValue ?? WHOLE, {
          incident: inc,
          okSinceMs: inc.okSinceMs ?? undefined,
          savedMs: nowMs,
        });
    }
    this.unsent = await repo.pendingTransitions();
    await this.flush();
    for (const inc of orphans) await this.closeIncident(inc, nowMs);
    // An escalation that fell due while the server was down is sent now, once.
    for (const rule of this.rules.values()) {
      const due = this.escalations(rule, nowMs);
      if (due.length) await this.record(rule, due, nowMs);
    }
    await this.flush();
    for (const r of this.rules.values()) this.schedule(r);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
    await this.lane.run(async () => {});
  }

  private seriesOf(ruleId: string): Map<string, Series> {
    return entry(this.series, ruleId, () => new Map<string, Series>());
  }

  private filterOf(rule: Rule): RealtimeFilter {
    return entry(this.filters, rule.id, () => parseRealtimeFilters(rule.spec.filters, []));
  }

  /** Open (or acknowledged) incidents of a rule. */
  openIncidents(ruleId: string): IncidentRecord[] {
    return [...(this.series.get(ruleId)?.values() ?? [])].flatMap((s) => (s.incident ? [s.incident] : []));
  }

  /** The engine's own copy of an incident still open (its running values are newer than the store's). */
  current(inc: IncidentRecord): IncidentRecord {
    const live = this.series.get(inc.ruleId)?.get(inc.breakdownValue ?? WHOLE)?.incident;
    return live?.id === inc.id ? live : inc;
  }

  // --- Evaluation ---

  /** A real-time tick of one environment: every enabled real-time rule of it. */
  onTick(t: T): Promise<void> {
    return this.lane.run(async () => {
      if (this.closed) return;
      const started = this.clock();
      for (const rule of this.rules.values()) {
        const { spec } = rule;
        if (rule.envId !== t.envId || spec.kind !== 'realtime' || !spec.enabled) continue;
        if (spec.condition.type === 'anomaly') continue; // Evaluated per minute (onMinute).
        const filter = this.filterOf(rule);
        let aggs: Awaited<ReturnType<typeof realtimeSeries>>;
        try {
          aggs = await realtimeSeries(spec, filter, t, this.deps.filtered);
        } catch (err) {
          // A cluster whose workers did not all answer: this tick says nothing about the rule.
          this.deps.log.warn(
            `alert rule ${rule.id}: no complete numbers at this tick (${(err as Error).message})`,
          );
          continue;
        }
        const samples = new Map<string, SeriesSample>();
        for (const [key, agg] of aggs) samples.set(key, sampleOf(spec, agg));
        await this.apply(
          rule,
          samples,
          t.atMs,
          async (key) => exampleViews(spec, filter, t, key, EXAMPLES),
          (sinceMs) => hintAtTick(spec, filter, t, sinceMs, this.deps.filtered, this.deps.history),
        );
      }
      await this.flush();
      this.timed('realtime', started);
    });
  }

  /** A minute of the series history written: every enabled anomaly rule of its environment, at the minute's end. */
  onMinute(minute: WrittenMinute): Promise<void> {
    return this.lane.run(async () => {
      if (this.closed || !this.deps.history) return;
      const history = sharedReads(this.deps.history);
      for (const rule of this.rules.values()) {
        const { spec } = rule;
        if (rule.envId !== minute.envId || spec.condition.type !== 'anomaly' || !spec.enabled) continue;
        let samples: Awaited<ReturnType<typeof anomalySamples>>;
        try {
          samples = await anomalySamples(spec, minute, history);
        } catch (err) {
          this.deps.log.error(
            `alert rule ${rule.id}: reading its baseline failed: ${(err as Error).message}`,
          );
          continue;
        }
        this.verdicts.set(
          rule.id,
          new Map([...samples].map(([k, s]) => [k, { ...s.anomaly, minuteMs: minute.minuteMs }])),
        );
        await this.apply(rule, samples, minute.minuteMs + 60_000, async () => []);
      }
      await this.flush();
    });
  }

  /** Evaluates one windowed rule at `nowMs` (its timer calls it; tests call it with their own clock). */
  evaluateWindow(ruleId: string, nowMs = this.now()): Promise<void> {
    return this.lane.run(async () => {
      const rule = this.rules.get(ruleId);
      if (this.closed || !rule || rule.spec.kind !== 'window' || !rule.spec.enabled) return;
      const { store } = this.deps;
      const started = this.clock();
      let samples: Map<string, SeriesSample>;
      try {
        samples = await windowSeries(store, rule.spec, rule.envId, nowMs);
      } catch (err) {
        this.deps.log.error(`alert rule ${rule.id}: the window query failed: ${(err as Error).message}`);
        return;
      }
      await this.apply(rule, samples, nowMs, (key) =>
        windowExamples(store, rule.spec, rule.envId, key, nowMs, EXAMPLES),
      );
      await this.flush();
      this.timed('window', started);
    });
  }

  private clock() {
    return { wallMs: performance.now(), cpu: process.cpuUsage() };
  }

  /** Reports an evaluation's wall time and CPU time (the whole process's: the engine runs on its main thread). */
  private timed(kind: 'realtime' | 'window', started: ReturnType<AlertEngine['clock']>): void {
    const cpu = process.cpuUsage(started.cpu);
    this.deps.evaluated?.(kind, (performance.now() - started.wallMs) / 1000, (cpu.user + cpu.system) / 1e6);
  }

  private schedule(rule: Rule): void {
    clearInterval(this.timers.get(rule.id));
    this.timers.delete(rule.id);
    if (rule.spec.kind !== 'window' || !rule.spec.enabled) return;
    const timer = setInterval(() => {
      this.evaluateWindow(rule.id).catch((err) =>
        this.deps.log.error(`alert rule ${rule.id}: ${(err as Error).message}`),
      );
    }, rule.spec.evaluate_every_seconds! * 1000);
    timer.unref();
    this.timers.set(rule.id, timer);
  }

  /** Steps every series of a rule (those evaluated now, and those with a state that have no value now). */
  private async apply(
    rule: Rule,
    samples: Map<string, SeriesSample>,
    nowMs: number,
    examples: (key: string) => Promise<string[]>,
    hint?: (pendingSinceMs: number) => Promise<RootCauseHint | null>,
  ): Promise<void> {
    const { spec } = rule;
    const states = this.seriesOf(rule.id);
    const absent: SeriesSample = {
      value: spec.metric === 'current_concurrent_viewers' ? 0 : null,
      audience: 0,
    };
    for (const key of states.keys()) if (!samples.has(key)) samples.set(key, absent);
    const changed: Changed[] = [];
    /** Open incidents whose running values are due to be written. */
    const running: IncidentRecord[] = [];
    for (const [key, sample] of samples) {
      let s = states.get(key);
      if (!s) {
        // Most series of a broken-down rule are fine and have no state: nothing to step or keep
        // (a state made here would be dropped below); at 1 000 rules × 500 series this is the tick.
        if (!breaching(spec, sample)) continue;
        if (states.size >= MAX_SERIES) {
          if (!this.overflowed.has(rule.id))
            this.deps.log.warn(
              `alert rule ${rule.id}: over ${MAX_SERIES} series breach at once; more are skipped`,
            );
          this.overflowed.add(rule.id);
          continue;
        }
        s = { savedMs: nowMs };
        states.set(key, s);
      }
      const inc = s.incident;
      if (inc && sample.value !== null) {
        inc.lastValue = sample.value;
        if (worse(spec, sample.value, inc.worstValue)) inc.worstValue = sample.value;
        inc.audience = Math.max(inc.audience, sample.audience);
      }
      const pendingSinceMs = s.pendingSinceMs ?? nowMs;
      const step = stepThreshold(spec, s, inc !== undefined, sample, nowMs);
      if (step === 'trigger') {
        s.incident = this.newIncident(rule, key, sample, nowMs);
        s.incident.exampleViewIds = await examples(key);
        s.incident.rootCause = await this.hinted(rule, pendingSinceMs, hint);
        changed.push({ inc: s.incident, transition: 'trigger' });
      } else if (step === 'resolve' && inc) {
        inc.status = 'resolved';
        inc.resolvedAtMs = nowMs;
        inc.okSinceMs = null;
        s.incident = undefined;
        changed.push({ inc, transition: 'resolve' });
      } else if (inc) {
        const okSince = s.okSinceMs ?? null;
        // The resolve timer is written when it starts or stops, so a restart resumes it; the
        // running values (and examples, topped up here: looking costs a pass over the views) at most every 15 s.
        if (okSince !== inc.okSinceMs || nowMs - s.savedMs >= SAVE_EVERY_MS) {
          if (inc.exampleViewIds.length < EXAMPLES && sample.value !== null)
            inc.exampleViewIds = [...new Set([...inc.exampleViewIds, ...(await examples(key))])].slice(
              0,
              EXAMPLES,
            );
          inc.okSinceMs = okSince;
          s.savedMs = nowMs;
          running.push(inc);
        }
      }
      if (!s.incident && s.pendingSinceMs === undefined) states.delete(key);
    }
    changed.push(...this.escalations(rule, nowMs));
    await this.deps.repository.saveIncidents(running);
    if (changed.length) await this.record(rule, changed, nowMs);
  }

  /** Incidents of a rule still open (not acknowledged) `after_minutes` after they opened and not yet escalated. */
  private escalations(rule: Rule, nowMs: number): Changed[] {
    const after = rule.spec.escalation?.after_minutes;
    if (after === undefined) return [];
    return this.openIncidents(rule.id)
      .filter(
        (inc) => inc.status === 'open' && !inc.escalatedAtMs && nowMs - inc.startedAtMs >= after * 60_000,
      )
      .map((inc) => {
        inc.escalatedAtMs = nowMs;
        return { inc, transition: 'repeat' };
      });
  }

  /** The channels a transition goes to: the escalation's for `repeat`, the rule's otherwise. */
  private channelsOf(rule: Rule, transition: TransitionRecord['transition']): string[] {
    return transition === 'repeat'
      ? (rule.spec.escalation?.channel_ids ?? rule.spec.channel_ids)
      : rule.spec.channel_ids;
  }

  private newIncident(rule: Rule, key: string, sample: SeriesSample, nowMs: number): IncidentRecord {
    const { spec } = rule;
    const c = spec.condition;
    // An anomaly incident records the bound it crossed as its threshold.
    const bound = c.type === 'anomaly' && sample.anomaly?.state === 'anomalous' ? sample.anomaly.bound : 0;
    const unit =
      spec.kind === 'realtime'
        ? REALTIME_METRICS[spec.metric as RealtimeMetricId].unit
        : METRICS[spec.metric as keyof typeof METRICS].unit;
    const breakdownValue = spec.breakdown === null ? null : key;
    return {
      id: randomUUID(),
      envId: rule.envId,
      ruleId: rule.id,
      ruleName: spec.name,
      metric: spec.metric,
      unit,
      breakdown: spec.breakdown,
      breakdownValue,
      filters: spec.filters,
      severity: spec.severity,
      operator: operatorOf(spec),
      threshold: c.type === 'anomaly' ? bound : c.value,
      resolveValue: c.type === 'anomaly' ? bound : c.resolve_value,
      status: 'open',
      openValue: sample.value!,
      worstValue: sample.value!,
      lastValue: sample.value,
      audience: sample.audience,
      exampleViewIds: [],
      muted: this.muted(rule, breakdownValue, nowMs),
      startedAtMs: nowMs,
      acknowledgedAtMs: null,
      resolvedAtMs: null,
      okSinceMs: null,
    };
  }

  /** The root-cause hint of an incident opening (a failure to make one never holds the trigger back). */
  private async hinted(
    rule: Rule,
    pendingSinceMs: number,
    hint: ((pendingSinceMs: number) => Promise<RootCauseHint | null>) | undefined,
  ): Promise<RootCauseHint | null> {
    try {
      return (await hint?.(pendingSinceMs)) ?? null;
    } catch (err) {
      this.deps.log.warn(`alert rule ${rule.id}: no root-cause hint: ${(err as Error).message}`);
      return null;
    }
  }

  private muted(rule: Rule, breakdownValue: string | null, nowMs: number): boolean {
    for (const s of this.silences.values())
      if (mutes(s, rule.envId, rule.id, rule.spec.breakdown, breakdownValue, nowMs)) return true;
    return false;
  }

  // --- Transitions: stored first, then handed to the notifier ---

  private links(inc: IncidentRecord, spec: RuleSpec): IncidentNotice['links'] {
    const base = this.deps.baseUrl().replace(/\/$/, '');
    const q = new URLSearchParams({ metric: spec.metric });
    // The page opens on what the rule watches: its measurement and, for a series, its breakdown.
    if (spec.measurement) q.set('measurement', spec.measurement);
    if (inc.breakdown !== null) q.set('breakdown', inc.breakdown);
    for (const f of spec.filters) q.append('filters[]', f);
    if (inc.breakdown !== null) q.append('filters[]', `${inc.breakdown}:${inc.breakdownValue}`);
    if (spec.kind === 'window') q.append('timeframe[]', `${Math.round(spec.window_seconds! / 60)}:minutes`);
    return {
      incident: `${base}/ui/alerts/incidents/${inc.id}`,
      series: `${base}/ui/${spec.kind === 'realtime' ? 'monitor' : 'metrics'}?${q}`,
    };
  }

  /** Writes the incidents and their transitions, then queues the ones to send as one batch. */
  private async record(rule: Rule, changed: Changed[], nowMs: number): Promise<void> {
    const recorded: TransitionRecord[] = [];
    for (const { inc, transition } of changed) {
      const delivery: Delivery = inc.muted
        ? 'muted'
        : this.channelsOf(rule, transition).length === 0
          ? 'no_channels'
          : 'pending';
      const t: TransitionRecord = {
        id: dedupKeyOf(inc.id, transition),
        incidentId: inc.id,
        envId: inc.envId,
        ruleId: inc.ruleId,
        transition,
        atMs: nowMs,
        delivery,
        notice: noticeOf(inc, transition, this.links(inc, rule.spec)),
      };
      recorded.push(t);
      this.deps.log.info(
        `alert: ${transition} ${inc.id} (${rule.spec.name}${inc.breakdownValue === null ? '' : `, ${inc.breakdown}=${inc.breakdownValue}`}; ${delivery})`,
      );
    }
    // Incidents first: a transition row is never stored without its incident.
    await this.deps.repository.saveIncidents(changed.map((c) => c.inc));
    await this.deps.repository.saveTransitions(recorded);
    this.unsent.push(...recorded.filter((t) => t.delivery === 'pending'));
  }

  /**
   * Hands every unsent transition to the notifier, one batch per rule (and one more for its
   * escalations, which may go elsewhere); what fails stays for the next evaluation.
   */
  private async flush(): Promise<void> {
    if (this.unsent.length === 0) return;
    const byRule = new Map<string, TransitionRecord[]>();
    for (const t of this.unsent) {
      const key = `${t.ruleId}\n${t.transition === 'repeat'}`;
      byRule.set(key, [...(byRule.get(key) ?? []), t]);
    }
    this.unsent = [];
    for (const ts of byRule.values()) {
      const ruleId = ts[0]!.ruleId;
      const rule = this.rules.get(ruleId);
      const env = this.deps.registry.environment(ts[0]!.envId);
      if (!rule || !env) continue;
      try {
        await this.deps.notifier.notify({
          envId: env.id,
          envName: env.name,
          rule: {
            id: rule.id,
            name: rule.spec.name,
            description: rule.spec.description,
            runbookUrl: rule.spec.runbook_url,
            severity: rule.spec.severity,
          },
          channelIds: this.channelsOf(rule, ts[0]!.transition),
          notices: ts.map((t) => t.notice),
        });
      } catch (err) {
        this.deps.log.error(
          `alert rule ${ruleId}: notifying failed, retried at the next evaluation: ${(err as Error).message}`,
        );
        this.unsent.push(...ts);
        continue;
      }
      await this.deps.repository.saveTransitions(ts.map((t) => ({ ...t, delivery: 'queued' as const })));
    }
  }

  /** Resolves an incident whose rule is gone or disabled. */
  private async closeIncident(inc: IncidentRecord, nowMs: number): Promise<void> {
    inc.status = 'resolved';
    inc.resolvedAtMs = nowMs;
    const rule = this.rules.get(inc.ruleId);
    if (!rule) {
      await this.deps.repository.saveIncidents([inc]);
      return;
    }
    await this.record(rule, [{ inc, transition: 'resolve' }], nowMs);
    await this.flush();
  }

  // --- Changes through the API (run between evaluations, never during one) ---

  /** Acknowledges an open incident (idempotent); refuses a resolved one. */
  acknowledge(inc: IncidentRecord): Promise<IncidentRecord> {
    return this.lane.run(async () => {
      const live = this.series.get(inc.ruleId)?.get(inc.breakdownValue ?? WHOLE)?.incident;
      if (!live || live.id !== inc.id)
        throw new ApiError('QOE_ERR_CONFLICT', [
          `Incident ${inc.id} is resolved: there is nothing to acknowledge`,
        ]);
      if (live.status === 'acknowledged') return live;
      const nowMs = this.now();
      live.status = 'acknowledged';
      live.acknowledgedAtMs = nowMs;
      await this.record(this.rules.get(live.ruleId)!, [{ inc: live, transition: 'acknowledge' }], nowMs);
      await this.flush();
      return live;
    });
  }

  /** Adds or replaces a rule; a replaced rule's open incidents stay open (and follow the new condition). */
  putRule(rule: Rule): Promise<void> {
    return this.lane.run(async () => {
      await this.deps.repository.saveRule(rule);
      this.rules.set(rule.id, rule);
      this.filters.delete(rule.id);
      this.verdicts.delete(rule.id);
      const nowMs = this.now();
      if (!rule.spec.enabled)
        for (const inc of this.openIncidents(rule.id)) await this.closeIncident(inc, nowMs);
      if (!rule.spec.enabled) this.series.delete(rule.id);
      this.schedule(rule);
    });
  }

  /** Deletes a rule: its open incidents resolve (and say so to the channels). */
  deleteRule(rule: Rule): Promise<void> {
    return this.lane.run(async () => {
      const nowMs = this.now();
      for (const inc of this.openIncidents(rule.id)) await this.closeIncident(inc, nowMs);
      await this.deps.repository.deleteRule(rule.id);
      this.rules.delete(rule.id);
      this.series.delete(rule.id);
      this.filters.delete(rule.id);
      this.verdicts.delete(rule.id);
      clearInterval(this.timers.get(rule.id));
      this.timers.delete(rule.id);
    });
  }

  putSilence(s: SilenceRecord): Promise<void> {
    return this.lane.run(async () => {
      await this.deps.repository.saveSilence(s);
      this.silences.set(s.id, s);
    });
  }

  deleteSilence(id: string): Promise<void> {
    return this.lane.run(async () => {
      await this.deps.repository.deleteSilence(id);
      this.silences.delete(id);
    });
  }
}
