/**
 * A string someone else supplied (a video title, a dimension value): in a
 * <bdi>, so a right-to-left override inside it reorders only itself, never
 * the page around it (even inline in a sentence, with `wrap`); cut to its
 * box with an ellipsis unless `wrap` (then broken anywhere to fit), the
 * full text on hover.
 */
export function UserText({ text, wrap = false }: { text: string; wrap?: boolean }) {
  return (
    <bdi class={wrap ? 'user-text wrap' : 'user-text'} title={text}>
      {text}
    </bdi>
  );
}
