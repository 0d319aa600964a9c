import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useSession } from '../api/session';
import type { IdentitiesPage, IdentitySummary } from '../api/types';
import { ago, count } from '../format';
import { identityPath, Link } from '../router';
import { StatusBadge } from './Badges';

/** What the change stream told about an identity since its row was loaded. */
export interface RowPatch {
  readonly version: number;
  readonly scopeSize: number | null;
  readonly status: string | null;
  readonly at: string;
  /** Highlight the row until then (epoch ms). */
  readonly flashUntil: number;
}

const PAGE = 200;
const ROW_PX = 34;

export interface IdentityFilters {
  readonly q: string;
  readonly kind: string;
  readonly namespace: string;
  readonly status: string;
}

/**
 * The fleet, however large: pages of 200 from `GET /v1/identities` (filtered on the server) are
 * fetched as the list scrolls, and only the rows in view are in the DOM. Rows take live updates
 * (`patches`) from the change stream.
 */
export function IdentityTable({ filters, patches, now }: { filters: IdentityFilters; patches: ReadonlyMap<string, RowPatch>; now: number }): ReactNode {
  const { api } = useSession();
  const [rows, setRows] = useState<IdentitySummary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const generation = useRef(0);
  const busy = useRef(false);

  const query = useMemo(() => {
    const p = new URLSearchParams({ limit: String(PAGE) });
    if (filters.q.trim()) p.set('q', filters.q.trim());
    if (filters.kind) p.set('kind', filters.kind);
    if (filters.namespace) p.set('namespace', filters.namespace);
    if (filters.status) p.set('status', filters.status);
    return p.toString();
  }, [filters]);

  const fetchPage = useCallback(
    (after: string | null, reset: boolean) => {
      const mine = reset ? ++generation.current : generation.current;
      busy.current = true;
      setLoading(true);
      api.get<IdentitiesPage>(`/v1/identities?${query}${after ? `&cursor=${encodeURIComponent(after)}` : ''}`).then(
        (p) => {
          if (mine !== generation.current) return;
          setRows((old) => (reset ? p.identities : [...old, ...p.identities]));
          setNext(p.nextCursor);
          if (p.total !== null) setTotal(p.total);
          setError(undefined);
          busy.current = false;
          setLoading(false);
        },
        (e: Error) => {
          if (mine !== generation.current) return;
          setError(e.message);
          busy.current = false;
          setLoading(false);
        },
      );
    },
    [api, query],
  );

  useEffect(() => {
    setRows([]);
    setNext(null);
    setTotal(null);
    fetchPage(null, true);
  }, [fetchPage]);

  const maxScope = useMemo(() => rows.reduce((m, r) => Math.max(m, r.scopeSize), 4), [rows]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_PX, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1]!.index : 0;
  useEffect(() => {
    if (next !== null && !busy.current && lastIndex >= rows.length - 40) fetchPage(next, false);
  }, [lastIndex, rows.length, next, fetchPage]);

  return (
    <div className="table identities" data-testid="identity-table" data-total={total ?? ''} data-loaded={rows.length}>
      <div className="table-meta">
        <span data-testid="identity-count">
          {total === null ? 'counting…' : `${count(total)} identities`}
          {total !== null && rows.length < total ? <span className="muted"> · {count(rows.length)} loaded</span> : null}
        </span>
        {loading ? <span className="muted small">loading…</span> : null}
        {error ? <span className="error small">{error}</span> : null}
        <button type="button" className="btn btn-ghost btn-small" onClick={() => fetchPage(null, true)} title="Reload from the first page">
          ↻ refresh
        </button>
      </div>
      <div className="tr th">
        <span>Identity</span>
        <span>Kind</span>
        <span>Namespace</span>
        <span>Status</span>
        <span>Scope</span>
        <span className="num">Version</span>
        <span className="num">Sessions</span>
        <span className="num">Risk</span>
        <span>Updated</span>
      </div>
      <div className="tbody" ref={scroller} data-testid="identity-scroller">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((v) => {
            const r = rows[v.index]!;
            const p = patches.get(r.identityId);
            const live = p !== undefined && p.version >= r.version;
            const scope = live && p.scopeSize !== null ? p.scopeSize : r.scopeSize;
            const status = live && p.status !== null ? p.status : r.status;
            return (
              <div key={r.identityId} className={`tr${live && p.flashUntil > now ? ' flash' : ''}`} style={{ position: 'absolute', top: 0, left: 0, right: 0, height: v.size, transform: `translateY(${v.start}px)` }} data-testid="identity-row" data-identity={r.identityId}>
                <span className="mono ellipsis">
                  <Link to={identityPath(r.identityId)}>{r.identityId}</Link>
                </span>
                <span>{r.kind}</span>
                <span>{r.namespace}</span>
                <span>
                  <StatusBadge status={status} />
                </span>
                <span className="scopebar" title={`${scope} permissions in scope`}>
                  <span className="bar" style={{ width: `${Math.min(100, (scope / Math.max(1, maxScope)) * 100)}%` }} />
                  <span className="num">{scope}</span>
                </span>
                <span className="num mono">v{live ? p.version : r.version}</span>
                <span className="num">{r.sessions}</span>
                <span className="num">{r.riskScore}</span>
                <span className="muted small">{ago(live ? p.at : r.updatedAt, now)}</span>
              </div>
            );
          })}
        </div>
        {rows.length === 0 && !loading ? <div className="empty">No identity matches.</div> : null}
      </div>
    </div>
  );
}
