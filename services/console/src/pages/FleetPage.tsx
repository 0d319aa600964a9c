import { useCallback, useMemo, useState, type ReactNode } from 'react';
import type { ChangeItem, ChangesList, FleetSummary } from '../api/types';
import { ChangeFeed, type FeedItem } from '../components/ChangeFeed';
import { ChartView, colors } from '../components/Chart';
import { IdentityTable, type IdentityFilters, type RowPatch } from '../components/IdentityTable';
import { StreamIndicator } from '../components/StreamIndicator';
import { useApi } from '../hooks/useApi';
import { useEventStream } from '../hooks/useEventStream';
import { useNow } from '../hooks/useNow';
import { count } from '../format';
import { Link } from '../router';

const FEED_MAX = 80;
const KINDS = ['agent', 'workload', 'service-account', 'ci-job'];
const STATUSES = ['active', 'disabled', 'deleted'];

/** The whole fleet, live: counts, activity, scope sizes, every identity, every change as it happens. */
export function FleetPage(): ReactNode {
  const now = useNow(1000);
  const summary = useApi<FleetSummary>('/v1/fleet', 5000);
  const initial = useApi<ChangesList>('/v1/changes?limit=40');
  const [feed, setFeed] = useState<FeedItem[] | undefined>();
  const [patches, setPatches] = useState<ReadonlyMap<string, RowPatch>>(new Map());
  /** Changes seen on the stream, to add to the summary's last bucket until it catches up. */
  const [recent, setRecent] = useState<{ atMs: number; kind: string; direction: string | null }[]>([]);
  const [filters, setFilters] = useState<IdentityFilters>({ q: '', kind: '', namespace: '', status: '' });
  const [q, setQ] = useState('');

  const shown = feed ?? initial.data?.items.map((c) => ({ ...c, fresh: false })) ?? [];
  const onChange = useCallback(
    (c: ChangeItem) => {
      setFeed((old) => [{ ...c, fresh: true }, ...(old ?? initial.data?.items.map((x) => ({ ...x, fresh: false })) ?? [])].slice(0, FEED_MAX));
      if (c.kind === 'scope.change' && c.version !== null) {
        const version = c.version;
        setPatches((old) => {
          const m = new Map(old);
          const prev = m.get(c.identityId);
          if (!prev || prev.version <= version) m.set(c.identityId, { version, scopeSize: c.scopeSize, status: c.status, at: c.at, flashUntil: Date.now() + 2500 });
          return m;
        });
      }
      setRecent((old) => [...old.filter((r) => r.atMs > Date.now() - 120_000), { atMs: Date.now(), kind: c.kind, direction: c.direction }]);
    },
    [initial.data],
  );
  const stream = useEventStream(
    '/v1/changes/stream',
    {
      onEvent: (m) => {
        if (m.event === 'scope.change' || m.event === 'revocation') onChange(JSON.parse(m.data) as ChangeItem);
      },
    },
    initial.data ? initial.data.position : null,
  );

  const s = summary.data;
  const activity = useMemo(() => {
    const buckets = s?.activity.buckets ?? [];
    const since = s ? Date.parse(s.at) : 0;
    const extra = { narrowing: 0, widening: 0, mixed: 0, refresh: 0, revocation: 0 };
    for (const r of recent) {
      if (r.atMs <= since) continue;
      if (r.kind === 'revocation') extra.revocation++;
      else if (r.direction) extra[r.direction as keyof typeof extra]++;
    }
    const last = buckets.length - 1;
    const series = (k: keyof typeof extra): number[] => buckets.map((b, i) => b[k] + (i === last ? extra[k] : 0));
    return {
      labels: buckets.map((b) => new Date(b.at).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false })),
      datasets: [
        { label: 'narrowing', data: series('narrowing'), backgroundColor: colors.narrowing, stack: 's' },
        { label: 'widening', data: series('widening'), backgroundColor: colors.widening, stack: 's' },
        { label: 'mixed', data: series('mixed'), backgroundColor: colors.mixed, stack: 's' },
        { label: 'revocations', data: series('revocation'), backgroundColor: colors.revocation, stack: 's' },
      ],
    };
  }, [s, recent]);
  const sizes = useMemo(
    () => ({
      labels: (s?.scopeSizes ?? []).map((b) => b.label),
      datasets: [{ label: 'identities', data: (s?.scopeSizes ?? []).map((b) => b.identities), backgroundColor: colors.accent, borderRadius: 3 }],
    }),
    [s],
  );
  const setFilter = (k: keyof IdentityFilters, v: string): void => setFilters((f) => ({ ...f, [k]: v }));

  return (
    <div className="page" data-testid="fleet-page">
      <div className="page-head">
        <h1>Fleet</h1>
        <StreamIndicator state={stream} what="scope changes" />
        {summary.error ? <span className="error small">{summary.error}</span> : null}
      </div>
      <div className="stats">
        <Stat label="Identities" value={s ? count(s.identities) : '…'} sub={s ? `${count(s.byStatus.active ?? 0)} active · ${count(s.byStatus.disabled ?? 0)} disabled · ${count(s.byStatus.deleted ?? 0)} deleted` : ''} testid="stat-identities" />
        <Stat label="Permissions in scope" value={s ? count(s.permissionsInScope) : '…'} sub={s && s.identities ? `${(s.permissionsInScope / s.identities).toFixed(1)} per identity` : ''} />
        <Stat label="Open sessions" value={s ? count(s.openSessions) : '…'} />
        <Stat label="Orders in force" value={s ? count(s.ordersInForce) : '…'} link="/orders" tone={s && s.ordersInForce > 0 ? 'warn' : undefined} testid="stat-orders" />
        <Stat label="Enforcement points" value={s ? `${s.enforcers.known} live` : '…'} sub={s ? `${s.enforcers.total} known` : ''} link="/enforcers" />
        <Stat label="Unacknowledged alerts" value={s ? count(s.alerts.unacknowledged) : '…'} sub="last 24 h" link="/alerts" tone={s && s.alerts.unacknowledged > 0 ? 'bad' : undefined} />
      </div>
      <div className="grid-2">
        <section className="panel">
          <h2>Scope changes per minute</h2>
          <ChartView
            type="bar"
            label="Scope changes and revocations per minute over the last hour, stacked by direction"
            data={activity}
            height={190}
            options={{ scales: { x: { stacked: true, ticks: { maxTicksLimit: 12 }, grid: { display: false } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { position: 'bottom' } } }}
          />
        </section>
        <section className="panel">
          <h2>Scope sizes</h2>
          <ChartView
            type="bar"
            label="How many identities hold how many permissions in scope"
            data={sizes}
            height={190}
            options={{ scales: { x: { title: { display: true, text: 'permissions in scope' }, grid: { display: false } }, y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } }}
          />
        </section>
      </div>
      <div className="grid-fleet">
        <section className="panel">
          <div className="panel-head">
            <h2>Identities</h2>
            <div className="filters">
              <input
                type="search"
                placeholder="id contains…"
                aria-label="Filter identities by id"
                data-testid="filter-q"
                value={q}
                onChange={(e) => setQ(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') setFilter('q', q);
                }}
                onBlur={() => setFilter('q', q)}
              />
              <select aria-label="Kind" data-testid="filter-kind" value={filters.kind} onChange={(e) => setFilter('kind', e.target.value)}>
                <option value="">all kinds</option>
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
              <select aria-label="Namespace" data-testid="filter-namespace" value={filters.namespace} onChange={(e) => setFilter('namespace', e.target.value)}>
                <option value="">all namespaces</option>
                {Object.keys(s?.byNamespace ?? {})
                  .sort()
                  .map((n) => (
                    <option key={n} value={n}>
                      {n} ({s?.byNamespace[n]})
                    </option>
                  ))}
              </select>
              <select aria-label="Status" data-testid="filter-status" value={filters.status} onChange={(e) => setFilter('status', e.target.value)}>
                <option value="">any status</option>
                {STATUSES.map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <IdentityTable filters={filters} patches={patches} now={now} />
        </section>
        <section className="panel">
          <div className="panel-head">
            <h2>Recent changes</h2>
            <span className="muted small">live, newest first</span>
          </div>
          <div className="feed-scroll">
            <ChangeFeed items={shown} />
          </div>
        </section>
      </div>
    </div>
  );
}

function Stat({ label, value, sub, link, tone, testid }: { label: string; value: string; sub?: string; link?: string; tone?: 'warn' | 'bad' | undefined; testid?: string }): ReactNode {
  const body = (
    <>
      <div className="stat-label">{label}</div>
      <div className={`stat-value${tone ? ` tone-${tone}` : ''}`} data-testid={testid}>
        {value}
      </div>
      {sub ? <div className="stat-sub muted">{sub}</div> : null}
    </>
  );
  return link ? (
    <Link to={link} className="stat stat-link">
      {body}
    </Link>
  ) : (
    <div className="stat">{body}</div>
  );
}
