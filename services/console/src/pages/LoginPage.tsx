import { useState, type FormEvent, type ReactNode } from 'react';
import { useSessionState } from '../api/session';
import { startSignIn } from '../api/sso';

/** Single sign-on when the control plane offers it, or a pasted bearer token; the API says who it is and what it may do. */
export function LoginPage(): ReactNode {
  const { signIn, message, checking, sso } = useSessionState();
  const [token, setToken] = useState('');
  const [leaving, setLeaving] = useState<string | undefined>();
  const single = (): void => {
    if (!sso) return;
    setLeaving('Opening the sign-in page…');
    startSignIn(sso).catch((e: unknown) => setLeaving(`Could not reach the identity provider: ${(e as Error).message}`));
  };
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (token.trim()) void signIn(token);
  };
  return (
    <div className="login">
      <form className="panel login-panel" onSubmit={submit}>
        <div className="brand brand-large">
          <span className="logo" aria-hidden>
            ◉
          </span>
          livescope console
        </div>
        <p className="muted">The runtime access scope of every non-human identity, live. Sign in with a bearer token of the control plane's API.</p>
        {sso ? (
          <>
            <button type="button" className="btn btn-primary" onClick={single} disabled={leaving !== undefined} data-testid="sso-sign-in">
              Sign in with single sign-on
            </button>
            {leaving ? <p className="muted small">{leaving}</p> : null}
            <p className="muted small">or paste a token:</p>
          </>
        ) : null}
        <label htmlFor="token">Bearer token</label>
        <textarea id="token" data-testid="token-input" rows={5} spellCheck={false} autoComplete="off" placeholder="eyJhbGciOiJFZERTQSIs…" value={token} onChange={(e) => setToken(e.target.value)} />
        {message ? (
          <p className="error" role="alert" data-testid="login-error">
            {message}
          </p>
        ) : null}
        <button type="submit" className="btn btn-primary" disabled={checking || token.trim() === ''} data-testid="sign-in">
          {checking ? 'Checking…' : 'Sign in'}
        </button>
        <div className="hint">
          <p>
            Development: <code>npx livescope token --role responder --sub you</code> mints a one-hour token with the development key file
            (<code>npm start</code> prints one). Roles: <b>responder</b> narrows and lifts its own orders, <b>approver</b> widens, <b>soc</b> reads and
            acknowledges alerts.
          </p>
          <p className="muted small">The token stays in this browser tab only (session storage) and is sent to this control plane only.</p>
        </div>
      </form>
    </div>
  );
}
