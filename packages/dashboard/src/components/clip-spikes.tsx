/**
 * "Clip spikes" for a chart: the toggle, where its axis is cut (chart.tsx's
 * spikeClip over the values drawn on it), and the line under the chart that
 * says how many values were cut, or that there was no spike to cut.
 */
import { spikeClip } from './chart.js';
import { Toggle } from './toggle.js';

export const ClipToggle = (props: { on: boolean; onChange: (on: boolean) => void }) => (
  <Toggle
    testId="clip"
    label="Clip spikes"
    title="Cut the axis above a spike so the rest of the line stays readable"
    small
    {...props}
  />
);

/** The cut (null: none) and how many of `values` lie above it. */
export function clipOf(on: boolean, values: (number | null)[]): { clip: number | null; cut: number } {
  const clip = on ? spikeClip(values) : null;
  return { clip, cut: clip === null ? 0 : values.filter((v) => v !== null && v > clip).length };
}

export function ClipNote(props: {
  on: boolean;
  clip: number | null;
  cut: number;
  format: (v: number) => string;
}) {
  const { clip, cut } = props;
  if (!props.on) return null;
  const one = cut === 1;
  return (
    <p class="muted small" data-testid="clip-note">
      {clip === null
        ? 'No spike to cut: the axis shows every value.'
        : `Axis cut at ${props.format(clip)}: ${one ? '1 value' : `${cut} values`} above it ${one ? 'is' : 'are'} marked ▲ at the top edge with ${one ? 'its value' : 'their values'}.`}
    </p>
  );
}
