/** Sign-in with an access token (id and secret), checked against the API before it is kept. */
import { useState } from 'preact/hooks';
import { checkToken } from '../api.js';
import { BASE, navigate } from '../router.js';
import { signIn } from '../session.js';

export function SignInPage({ next }: { next: string }) {
  const [id, setId] = useState('');
  const [secret, setSecret] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const problem = await checkToken(id.trim(), secret.trim());
      if (problem) {
        setError(problem);
        return;
      }
      signIn({ id: id.trim(), secret: secret.trim() }, remember);
      // Only paths of the dashboard itself: `next` comes from the URL.
      const target =
        next.startsWith(`${BASE}/`) && !next.startsWith(`${BASE}/sign-in`) ? next : `${BASE}/monitor`;
      navigate(target.slice(BASE.length), true);
    } catch (err) {
      setError(`Could not reach the server: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="sign-in">
      <form onSubmit={submit}>
        <h1>openqoe</h1>
        <p>Sign in with an access token that has the data:read permission.</p>
        <label>
          Token id
          <input
            name="token-id"
            autocomplete="username"
            value={id}
            onInput={(e) => setId((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <label>
          Secret
          <input
            name="token-secret"
            type="password"
            autocomplete="current-password"
            value={secret}
            onInput={(e) => setSecret((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <label class="inline">
          <input
            type="checkbox"
            checked={remember}
            onChange={(e) => setRemember((e.target as HTMLInputElement).checked)}
          />{' '}
          Remember on this browser
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <p class="muted small">
          The first start of the server printed an admin token and keeps it in{' '}
          <code>data/bootstrap.json</code> (<code>access_token.id</code> and <code>.secret</code>). Create one
          for the dashboard (<code>video</code> is for the Live streams page) with{' '}
          <code data-testid="create-token-command">openqoe tokens create --permissions data:read,video</code>{' '}
          (in a clone: <code>node packages/server/dist/cli.js</code> for <code>openqoe</code>).
        </p>
      </form>
    </div>
  );
}
