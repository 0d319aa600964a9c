import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, createApi, tokenClaims, type Api } from './client';
import { navigate } from '../router';
import { finishSignIn, isCallback, signInConfig } from './sso';
import type { SignInConfig, WhoAmI } from './types';

const STORAGE_KEY = 'livescope.console.token';

export interface Session {
  readonly token: string;
  readonly me: WhoAmI;
  readonly api: Api;
  /** Epoch seconds the token expires at, as it claims. */
  readonly expiresAt: number | undefined;
  readonly signOut: (message?: string) => void;
}

interface SessionState {
  readonly session: Session | undefined;
  /** Why the last sign-in failed or the session ended. */
  readonly message: string | undefined;
  readonly checking: boolean;
  readonly signIn: (token: string) => Promise<void>;
  /** Single sign-on, when the control plane offers it to the console. */
  readonly sso: SignInConfig | undefined;
}

const Ctx = createContext<SessionState | undefined>(undefined);

/**
 * The signed-in user: a bearer token from single sign-on (authorization code with PKCE, see sso.ts)
 * or pasted at login (kept in this tab's sessionStorage only), the roles the API reports for it
 * (`GET /v1/me`), and an API client using it. A 401 anywhere signs out.
 */
export function SessionProvider({ children }: { children: ReactNode }): ReactNode {
  const [session, setSession] = useState<Session | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [checking, setChecking] = useState(() => sessionStorage.getItem(STORAGE_KEY) !== null || isCallback());
  const [sso, setSso] = useState<SignInConfig | undefined>();

  const signOut = useCallback((why?: string) => {
    sessionStorage.removeItem(STORAGE_KEY);
    setSession(undefined);
    setMessage(why);
  }, []);

  const signIn = useCallback(
    async (raw: string) => {
      const token = raw.trim().replace(/^Bearer\s+/i, '');
      setChecking(true);
      try {
        const api = createApi(token, (m) => signOut(`Signed out: the API refused the token (${m}).`));
        const me = await api.get<WhoAmI>('/v1/me');
        sessionStorage.setItem(STORAGE_KEY, token);
        setMessage(undefined);
        setSession({ token, me, api, expiresAt: tokenClaims(token).exp, signOut });
      } catch (e) {
        sessionStorage.removeItem(STORAGE_KEY);
        setSession(undefined);
        setMessage(e instanceof ApiError ? `${e.status === 403 ? 'This token has no livescope role' : 'The API refused this token'}: ${e.message}` : `Could not reach the API: ${(e as Error).message}`);
      } finally {
        setChecking(false);
      }
    },
    [signOut],
  );

  useEffect(() => {
    let cancelled = false;
    const callback = isCallback();
    void signInConfig()
      .catch(() => undefined)
      .then(async (c) => {
        if (cancelled) return;
        setSso(c);
        if (!callback) return;
        // Back from the provider: the code becomes the token, and the address bar loses code and state.
        let token: string;
        try {
          if (!c) throw new Error('single sign-on is not configured');
          token = await finishSignIn(c);
        } finally {
          navigate('/', true);
        }
        await signIn(token);
      })
      .catch((e: unknown) => {
        setChecking(false);
        setMessage(`Single sign-on failed: ${(e as Error).message}`);
      });
    const saved = sessionStorage.getItem(STORAGE_KEY);
    if (saved && !callback) void signIn(saved);
    return () => {
      cancelled = true;
    };
  }, [signIn]);

  const value = useMemo(() => ({ session, message, checking, signIn, sso }), [session, message, checking, signIn, sso]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSessionState(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSessionState outside SessionProvider');
  return s;
}

/** The signed-in session (pages render only inside one). */
export function useSession(): Session {
  const s = useSessionState().session;
  if (!s) throw new Error('not signed in');
  return s;
}
