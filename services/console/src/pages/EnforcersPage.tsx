import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { EnforcersList } from '../api/types';
import { ChartView, colors } from '../components/Chart';
import { useApi } from '../hooks/useApi';
import { useNow } from '../hooks/useNow';
import { ago, clock, count, duration } from '../format';
import { identityPath, Link } from '../router';

const HISTORY = 90;

/**
 * Enforcement points from their acknowledgements: the version each applied last, how far behind
 * it is (staleness: the oldest command it has not acknowledged), and its revocation lag.
 */
export function EnforcersPage(): ReactNode {
  const list = useApi<EnforcersList>('/v1/enforcers?limit=1000', 2000);
  const now = useNow(1000);
  /** Staleness samples per enforcement point while this page is open. */
  const [samples, setSamples] = useState<{ at: number; values: Record<string, number> }[]>([]);
  useEffect(() => {
    const d = list.data;
    if (!d) return;
    const values: Record<string, number> = {};
    for (const e of d.enforcers) if (e.stalenessMs !== null) values[e.enforcerId] = e.stalenessMs;
    setSamples((old) => [...old, { at: Date.now(), values }].slice(-HISTORY));
  }, [list.data]);

  const enforcers = list.data?.enforcers ?? [];
  const lag = useMemo(
    () => ({
      labels: enforcers.map((e) => e.enforcerId),
      datasets: [
        { label: 'p50', data: enforcers.map((e) => e.lag?.p50Ms ?? 0), backgroundColor: colors.p50, borderRadius: 2 },
        { label: 'p99', data: enforcers.map((e) => e.lag?.p99Ms ?? 0), backgroundColor: colors.p99, borderRadius: 2 },
        { label: 'max', data: enforcers.map((e) => e.lag?.maxMs ?? 0), backgroundColor: colors.max, borderRadius: 2 },
      ],
    }),
    [enforcers],
  );
  const palette = ['#38bdf8', '#a78bfa', '#22c55e', '#f59e0b', '#f472b6', '#94a3b8'];
  const staleness = useMemo(() => {
    const ids = [...new Set(samples.flatMap((s) => Object.keys(s.values)))].sort();
    return {
      labels: samples.map((s) => clock(new Date(s.at).toISOString())),
      datasets: ids.map((id, i) => ({ label: id, data: samples.map((s) => s.values[id] ?? null), borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], pointRadius: 0, tension: 0.2, spanGaps: true })),
    };
  }, [samples]);

  return (
    <div className="page" data-testid="enforcers-page">
      <div className="page-head">
        <h1>Enforcement points</h1>
        <span className="muted small">{list.data ? `${list.data.known} live of ${enforcers.length} known · refreshed every 2 s` : 'loading…'}</span>
        {list.error ? <span className="error small">{list.error}</span> : null}
      </div>
      <section className="panel">
        {enforcers.length === 0 && list.data ? <div className="empty">No enforcement point has acknowledged anything yet.</div> : null}
        {enforcers.length > 0 ? (
          <table className="grid-table" data-testid="enforcers-table">
            <thead>
              <tr>
                <th>Enforcement point</th>
                <th>State</th>
                <th>Applied version</th>
                <th className="num">Identities</th>
                <th className="num">Applied</th>
                <th className="num">Rejected</th>
                <th>Staleness</th>
                <th>Revocation lag p50 / p99 / max</th>
                <th>Last heard</th>
              </tr>
            </thead>
            <tbody>
              {enforcers.map((e) => (
                <tr key={e.enforcerId} data-testid="enforcer-row" data-enforcer={e.enforcerId}>
                  <td className="mono">{e.enforcerId}</td>
                  <td>
                    {e.live ? <span className="badge status-active">live</span> : <span className="badge status-disabled">silent</span>}{' '}
                    {e.acksVerified === true ? (
                      <span className="badge" title="its acknowledgements are signed by its own key">signed</span>
                    ) : (
                      <span className="muted small" title="its acknowledgements are self-declared (no key configured in LIVESCOPE_API_ENFORCER_KEYS)">unsigned</span>
                    )}
                  </td>
                  <td>
                    {e.lastApplied ? (
                      <>
                        <Link className="mono" to={identityPath(e.lastApplied.identityId)}>
                          {e.lastApplied.identityId}
                        </Link>{' '}
                        <span className="mono" data-testid="applied-version">
                          v{e.lastApplied.version}
                        </span>
                        <div className="small muted">
                          {e.lastApplied.kind} · {ago(e.lastApplied.appliedAt, now)}
                        </div>
                      </>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="num">{count(e.identities)}</td>
                  <td className="num">{count(e.applied)}</td>
                  <td className={`num${e.rejected > 0 ? ' tone-bad' : ''}`}>{count(e.rejected)}</td>
                  <td className={e.stalenessMs !== null && e.stalenessMs > 30_000 ? 'tone-bad' : ''} data-testid="staleness">
                    {e.stalenessMs === null ? <span className="muted">unknown</span> : e.stalenessMs === 0 ? 'up to date' : `${duration(e.stalenessMs)} behind`}
                    {e.pendingCommands ? <div className="small muted">{e.pendingCommands} pending</div> : null}
                  </td>
                  <td className="mono small">{e.lag ? `${duration(e.lag.p50Ms)} / ${duration(e.lag.p99Ms)} / ${duration(e.lag.maxMs)}` : '—'}</td>
                  <td className="small">{duration(e.silenceMs)} ago</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <div className="grid-2">
        <section className="panel">
          <h2>Revocation lag (ms)</h2>
          <ChartView type="bar" label="Revocation lag per enforcement point: p50, p99 and max in milliseconds" data={lag} height={200} options={{ scales: { y: { beginAtZero: true } }, plugins: { legend: { position: 'bottom' } } }} />
        </section>
        <section className="panel">
          <h2>Staleness while this page is open (ms)</h2>
          <ChartView type="line" label="Staleness of each enforcement point over time in milliseconds" data={staleness} height={200} options={{ scales: { y: { beginAtZero: true }, x: { ticks: { maxTicksLimit: 8 } } }, plugins: { legend: { position: 'bottom' } } }} />
        </section>
      </div>
    </div>
  );
}
