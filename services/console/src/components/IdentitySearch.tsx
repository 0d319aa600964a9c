import { useEffect, useState, type ReactNode } from 'react';
import { useSession } from '../api/session';
import type { IdentitiesPage, IdentitySummary } from '../api/types';
import { identityPath, navigate } from '../router';

/** Find an identity by a part of its id (server-side search) and open it. */
export function IdentitySearch(): ReactNode {
  const { api } = useSession();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<IdentitySummary[]>([]);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    const term = q.trim();
    if (term.length < 2) {
      setFound([]);
      return undefined;
    }
    const ctl = new AbortController();
    const t = setTimeout(() => {
      api.get<IdentitiesPage>(`/v1/identities?limit=8&q=${encodeURIComponent(term)}`, ctl.signal).then(
        (p) => setFound(p.identities),
        () => setFound([]),
      );
    }, 200);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [api, q]);
  const go = (id: string): void => {
    setQ('');
    setOpen(false);
    navigate(identityPath(id));
  };
  return (
    <div className="search" onBlur={() => setTimeout(() => setOpen(false), 150)}>
      <input
        type="search"
        placeholder="Find an identity…"
        aria-label="Find an identity"
        data-testid="identity-search"
        value={q}
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            const exact = found.find((f) => f.identityId === q.trim());
            const pick = exact ?? found[0];
            if (pick) go(pick.identityId);
            else if (q.trim()) go(q.trim());
          }
          if (e.key === 'Escape') setOpen(false);
        }}
      />
      {open && found.length > 0 ? (
        <ul className="search-results" role="listbox">
          {found.map((f) => (
            <li key={f.identityId} role="option" aria-selected={false} onMouseDown={() => go(f.identityId)}>
              <span className="mono">{f.identityId}</span>
              <span className="muted">
                {f.kind} · {f.namespace} · {f.scopeSize} perms
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
