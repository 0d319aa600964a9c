import { useCallback, useEffect, useRef, useState } from 'react';
import { useSession } from '../api/session';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  /** Fetches again now (keeps showing the previous data meanwhile). */
  readonly reload: () => void;
}

/**
 * GETs `path` (null: nothing) and, with `refreshMs`, again on that interval while the page is
 * visible. Answers of superseded requests are dropped.
 */
export function useApi<T>(path: string | null, refreshMs?: number): Loaded<T> {
  const { api } = useSession();
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const generation = useRef(0);

  const load = useCallback(() => {
    if (path === null) return;
    const mine = ++generation.current;
    setLoading(true);
    api.get<T>(path).then(
      (d) => {
        if (mine !== generation.current) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: Error) => {
        if (mine !== generation.current) return;
        setError(e.message);
        setLoading(false);
      },
    );
  }, [api, path]);

  useEffect(() => {
    setData(undefined);
    setError(undefined);
    load();
    if (!refreshMs) return undefined;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') load();
    }, refreshMs);
    return () => clearInterval(t);
  }, [load, refreshMs]);

  return { data, error, loading, reload: load };
}
