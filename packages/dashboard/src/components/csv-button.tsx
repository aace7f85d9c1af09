/**
 * "CSV": downloads what a table or chart shows, as the API's own CSV answer
 * (the route asked with Accept: text/csv and the page's current query), so
 * the file holds the API's numbers, unrounded. The download is a Blob link:
 * the request needs the signed-in token, which a plain link could not send.
 */
import { useState } from 'preact/hooks';
import { getCsv, type Query } from '../api.js';

export function CsvButton(props: {
  path: string;
  query: Query;
  /** The file's name, without `.csv`; also the test id (`csv-{name}`). */
  name: string;
  /** What the file holds, when a toolbar offers more than one. */
  label?: string;
  /** Why it is off, if it is. */
  disabled?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const download = async () => {
    setBusy(true);
    setError('');
    try {
      const url = URL.createObjectURL(
        new Blob([await getCsv(props.path, props.query)], { type: 'text/csv' }),
      );
      const a = document.createElement('a');
      a.href = url;
      a.download = `${props.name}.csv`;
      a.click();
      // The browser has read the Blob once the click's download started; a later revoke is harmless.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="csv">
      <button
        type="button"
        class="small"
        data-testid={`csv-${props.name}`}
        disabled={busy || props.disabled !== undefined}
        title={props.disabled ?? 'Download these numbers as CSV (the API answer, unrounded)'}
        onClick={() => void download()}
      >
        ⤓ {props.label ? `${props.label} CSV` : 'CSV'}
      </button>
      {error && (
        <span class="error small" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
