/** A labelled checkbox that turns one page option on or off (compare, clip spikes). */
export function Toggle(props: {
  testId: string;
  label: string;
  on: boolean;
  onChange: (on: boolean) => void;
  title?: string;
  small?: boolean;
}) {
  return (
    <label class={props.small ? 'small' : ''} title={props.title}>
      <input
        type="checkbox"
        data-testid={props.testId}
        checked={props.on}
        onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)}
      />{' '}
      {props.label}
    </label>
  );
}
