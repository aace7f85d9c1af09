/** What a newcomer sees where data would be: how to send some. */
export function EmptyState({ title, children }: { title: string; children?: preact.ComponentChildren }) {
  return (
    <div class="empty" data-testid="empty-state">
      <h3>{title}</h3>
      {children}
      <p>To send data:</p>
      <ul>
        <li>
          open the <a href="/demo/">demo page</a>: a test video plays with the collector attached and its view
          shows up here within seconds;
        </li>
        <li>
          add the collector to your player (see the README, “Add openqoe to your player”), with this
          environment’s key;
        </li>
        <li>
          or generate synthetic views: <code>openqoe generate --views 2000</code>.
        </li>
      </ul>
    </div>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}
