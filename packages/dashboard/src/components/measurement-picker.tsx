/**
 * The measurement of a stored-views metric: the ones the metric catalog
 * (GET /data/v1/metrics) lists for it — mean, the median and the 75th, 90th,
 * 95th and 99th percentiles, min, max, total, count — under names an engineer
 * reads at a glance (p95). The value sent and kept in the URL is the API's.
 */
const NAMES: Record<string, string> = {
  avg: 'mean',
  median: 'median (p50)',
  '75th': 'p75',
  '90th': 'p90',
  '95th': 'p95',
  '99th': 'p99',
  sum: 'total',
};

export const measurementName = (m: string) => NAMES[m] ?? m;

export function MeasurementPicker(props: {
  measurements: readonly string[];
  value: string;
  onChange: (measurement: string) => void;
}) {
  if (props.measurements.length < 2) return null;
  return (
    <label>
      Measurement{' '}
      <select
        data-testid="measurement"
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        {props.measurements.map((m) => (
          <option key={m} value={m}>
            {measurementName(m)}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * The unit a measurement's numbers are in: the metric's, except a count,
 * which counts views whatever the metric (the plays of a share metric, whose
 * unit the catalog gives as percent).
 */
export const measuredUnit = (unit: string, measurement: string | undefined) =>
  measurement === 'count' ? 'views' : unit;
