/**
 * Silences: mute a rule, one series of it, or every rule for a time window
 * (maintenance). Muted transitions are recorded, not sent. The list shows
 * each silence's scope and window, whether it mutes now, and ends one by
 * deleting it; the form creates one starting now.
 */
import { useState } from 'preact/hooks';
import type { AlertRuleListResponse, SilenceInput, SilenceListResponse } from '../alert-types.js';
import { getJson, sendJson } from '../api.js';
import { ErrorNote } from '../components/empty-state.js';
import { formatTime } from '../format.js';
import { useData } from '../use-data.js';

const SILENCES_API = '/system/v1/silences';
const DURATIONS_MIN = [30, 60, 120, 240, 480, 1440];

export function SilencesPage() {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(undefined);
  const silences = useData(
    () => getJson<SilenceListResponse>(SILENCES_API, { limit: 1000 }),
    [version],
    30_000,
  );
  const rules = useData(() => getJson<AlertRuleListResponse>('/system/v1/alert-rules', { limit: 1000 }), []);
  const ruleName = new Map((rules.data?.data ?? []).map((r) => [r.id, r.name]));
  const [form, setForm] = useState({ ruleId: '', value: '', minutes: '60', comment: '' });
  const chosenRule = rules.data?.data.find((r) => r.id === form.ruleId);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const body: SilenceInput = {
      rule_id: form.ruleId || null,
      ...(chosenRule?.breakdown && form.value.trim()
        ? { breakdown: chosenRule.breakdown, breakdown_value: form.value.trim() }
        : {}),
      ends_at: new Date(Date.now() + Number(form.minutes) * 60_000).toISOString(),
      comment: form.comment,
    };
    try {
      await sendJson('POST', SILENCES_API, { ...body }, true);
      setForm({ ...form, value: '', comment: '' });
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  const end = async (id: string) => {
    setError(undefined);
    try {
      await sendJson('DELETE', `${SILENCES_API}/${encodeURIComponent(id)}`);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  const list = [...(silences.data?.data ?? [])].sort((a, b) => b.ends_at.localeCompare(a.ends_at));
  const input = (e: Event) => (e.target as HTMLInputElement).value;

  return (
    <>
      <section class="card">
        <h3>New silence</h3>
        <form class="toolbar" onSubmit={create} data-testid="silence-form">
          <label>
            Mute{' '}
            <select
              name="rule"
              value={form.ruleId}
              onChange={(e) => setForm({ ...form, ruleId: input(e), value: '' })}
            >
              <option value="">every rule</option>
              {(rules.data?.data ?? []).map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
          {chosenRule?.breakdown && (
            <label>
              only {chosenRule.breakdown}{' '}
              <input
                name="series"
                placeholder="every value"
                value={form.value}
                onInput={(e) => setForm({ ...form, value: input(e) })}
              />
            </label>
          )}
          <label>
            for{' '}
            <select
              name="duration"
              value={form.minutes}
              onChange={(e) => setForm({ ...form, minutes: input(e) })}
            >
              {DURATIONS_MIN.map((m) => (
                <option key={m} value={String(m)}>
                  {m < 60 ? `${m} minutes` : `${m / 60} hour${m > 60 ? 's' : ''}`}
                </option>
              ))}
            </select>
          </label>
          <label>
            Comment{' '}
            <input
              name="comment"
              placeholder="maintenance of …"
              value={form.comment}
              onInput={(e) => setForm({ ...form, comment: input(e) })}
            />
          </label>
          <button type="submit" data-testid="create-silence">
            Silence
          </button>
        </form>
      </section>
      <ErrorNote error={error ?? silences.error} />
      {silences.data && list.length === 0 && <p class="muted">No silences.</p>}
      {list.length > 0 && (
        <section class="card">
          <table data-testid="silences-table">
            <thead>
              <tr>
                <th>Mutes</th>
                <th>Series</th>
                <th>From</th>
                <th>Until</th>
                <th>Comment</th>
                <th>Now</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((s) => {
                const upcoming = !s.active && Date.parse(s.starts_at) > Date.now();
                return (
                  <tr key={s.id} data-silence={s.id} data-active={String(s.active)}>
                    <td>{s.rule_id ? (ruleName.get(s.rule_id) ?? s.rule_id) : 'every rule'}</td>
                    <td>{s.breakdown ? `${s.breakdown} = ${s.breakdown_value}` : 'all'}</td>
                    <td>{formatTime(s.starts_at)}</td>
                    <td>{formatTime(s.ends_at)}</td>
                    <td>{s.comment}</td>
                    <td>{s.active ? 'muting' : upcoming ? 'upcoming' : 'ended'}</td>
                    <td>
                      <button type="button" class="link" onClick={() => end(s.id)}>
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}
