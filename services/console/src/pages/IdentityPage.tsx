import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useSession } from '../api/session';
import type { ActiveOrder, Explanation, History, HistoryItem, OrdersList, ScopeView } from '../api/types';
import { CauseChips, DirectionBadge, StatusBadge } from '../components/Badges';
import { ChartView, colors } from '../components/Chart';
import { describeTarget, LiftButton, QuickOrder } from '../components/orders';
import { StreamIndicator } from '../components/StreamIndicator';
import { useApi } from '../hooks/useApi';
import { useEventStream } from '../hooks/useEventStream';
import { useNow } from '../hooks/useNow';
import { clock, countdown, dateTime, perm } from '../format';

const HISTORY_PAGE = 50;
const key = (h: HistoryItem): string => `${h.partition}/${h.seq}`;
const newestFirst = (a: HistoryItem, b: HistoryItem): number => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.partition - a.partition || b.seq - a.seq);

function affects(o: ActiveOrder, s: ScopeView): boolean {
  const t = o.target;
  if ('identityId' in t) return t.identityId === s.identityId;
  if ('all' in t) return true;
  const sel = t.selector as { kind?: string; namespace?: string; owner?: string; labels?: Record<string, string>; roles?: string[] };
  return (
    (sel.kind === undefined || sel.kind === s.kind) &&
    (sel.namespace === undefined || sel.namespace === s.namespace) &&
    (sel.owner === undefined || sel.owner === s.owner) &&
    Object.entries(sel.labels ?? {}).every(([k, v]) => s.labels[k] === v) &&
    (sel.roles ?? []).every((r) => s.roles.includes(r))
  );
}

/**
 * One identity, live: its scope now with validUntil countdowns, how it got there (scope size over
 * time and every change with its cause, from the audit log), why any action is allowed or not,
 * and the orders that hold it. Changes arrive on the identity's change stream.
 */
export function IdentityPage({ identityId }: { identityId: string }): ReactNode {
  const { api } = useSession();
  const now = useNow(1000);
  const enc = encodeURIComponent(identityId);
  const scope = useApi<ScopeView>(`/v1/identities/${enc}/scope`);
  const orders = useApi<OrdersList>('/v1/orders?limit=1000', 10_000);
  const [history, setHistory] = useState<HistoryItem[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [historyError, setHistoryError] = useState<string | undefined>();
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());

  const loadHistory = useCallback(
    (before: string | null) => {
      api.get<History>(`/v1/identities/${enc}/history?limit=${HISTORY_PAGE}${before ? `&cursor=${encodeURIComponent(before)}` : ''}`).then(
        (h) => {
          setHistoryError(undefined);
          if (before) {
            setHistory((old) => [...old, ...h.items.filter((i) => !old.some((o) => key(o) === key(i)))]);
            setNext(h.nextCursor);
            return;
          }
          setHistory((old) => {
            const known = new Set(old.map(key));
            const added = h.items.filter((i) => !known.has(key(i)));
            if (old.length > 0 && added.length > 0) setFresh(new Set(added.map(key)));
            return [...added, ...old].sort(newestFirst);
          });
          setNext((n) => n ?? h.nextCursor);
        },
        (e: Error) => setHistoryError(e.message),
      );
    },
    [api, enc],
  );
  useEffect(() => loadHistory(null), [loadHistory]);

  // Every change (or reconnection) re-reads the scope and the newest history: both come from the state of record.
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reloadScope = scope.reload;
  const reloadOrders = orders.reload;
  const refresh = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      reloadScope();
      loadHistory(null);
      reloadOrders();
    }, 120);
  }, [reloadScope, loadHistory, reloadOrders]);
  useEffect(() => () => clearTimeout(timer.current), []);
  const stream = useEventStream(`/v1/changes/stream?identity=${enc}`, {
    onEvent: (m) => {
      if (m.event === 'scope.change' || m.event === 'revocation') refresh();
    },
    onOpen: (reconnect) => {
      if (reconnect) refresh();
    },
  });

  const s = scope.data;
  const holding = useMemo(() => (s && orders.data ? orders.data.orders.filter((o) => affects(o, s)) : []), [s, orders.data]);

  const timeline = useMemo(() => {
    const points = history
      .filter((h) => h.kind === 'scope.change' && h.scopeSize !== null)
      .map((h) => ({ x: Date.parse(h.at), y: h.scopeSize!, direction: h.direction ?? 'refresh' }))
      .reverse();
    if (s && points.length > 0) points.push({ x: Math.max(now, points[points.length - 1]!.x), y: s.permissions.length, direction: 'refresh' });
    return {
      datasets: [
        {
          label: 'permissions in scope',
          data: points.map((p) => ({ x: p.x, y: p.y })),
          stepped: 'before' as const,
          borderColor: colors.accent,
          backgroundColor: 'rgba(56, 189, 248, 0.12)',
          fill: true,
          pointRadius: points.map((_, i) => (i === points.length - 1 ? 0 : 4)),
          pointBackgroundColor: points.map((p) => colors[p.direction as keyof typeof colors] ?? colors.refresh),
        },
      ],
    };
  }, [history, s, now]);

  if (scope.error && !s)
    return (
      <div className="page">
        <h1 className="mono">{identityId}</h1>
        <div className="panel error" role="alert">
          {scope.error}
        </div>
      </div>
    );
  if (!s) return <div className="page muted">Loading {identityId}…</div>;

  return (
    <div className="page" data-testid="identity-page" data-identity={identityId}>
      <div className="page-head">
        <h1 className="mono" data-testid="identity-title">
          {s.identityId}
        </h1>
        <StatusBadge status={s.status} />
        <StreamIndicator state={stream} what="changes of this identity" />
      </div>
      <section className="panel identity-head">
        <dl className="facts">
          <div>
            <dt>Kind</dt>
            <dd>{s.kind}</dd>
          </div>
          <div>
            <dt>Namespace</dt>
            <dd>{s.namespace}</dd>
          </div>
          <div>
            <dt>Owner</dt>
            <dd>{s.owner}</dd>
          </div>
          <div>
            <dt>Scope version</dt>
            <dd className="mono" data-testid="identity-version">
              v{s.version}
            </dd>
          </div>
          <div>
            <dt>Risk</dt>
            <dd className={s.riskScore >= 70 ? 'tone-bad' : ''}>{s.riskScore}</dd>
          </div>
          <div>
            <dt>Partition</dt>
            <dd>{s.partition}</dd>
          </div>
          <div className="wide">
            <dt>Roles</dt>
            <dd>
              {s.roles.map((r) => (
                <span key={r} className="chip">
                  {r}
                </span>
              ))}
            </dd>
          </div>
          <div className="wide">
            <dt>Labels</dt>
            <dd>
              {Object.entries(s.labels).map(([k, v]) => (
                <span key={k} className="chip">
                  {k}={v}
                </span>
              ))}
            </dd>
          </div>
        </dl>
        <QuickOrder identityId={identityId} onIssued={refresh} />
      </section>

      {holding.length > 0 ? (
        <section className="panel panel-warn" data-testid="identity-orders">
          <h2>Orders in force on this identity</h2>
          <ul className="orders-mini">
            {holding.map((o) => (
              <li key={o.orderId} data-order={o.orderId}>
                <span className={`badge order-${o.kind}`}>{o.kind}</span>
                <span className="mono">{o.orderId}</span>
                <span>
                  {describeTarget(o.target)} — “{o.reason}” by <b>{o.actor}</b>
                </span>
                <span className="muted small">{o.expiresAt ? `expires ${countdown(o.expiresAt, now)}` : 'until lifted'}</span>
                <LiftButton order={o} onDone={refresh} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <div className="grid-identity">
        <section className="panel">
          <div className="panel-head">
            <h2>Scope now</h2>
            <span className="muted small">
              {s.permissions.length} permission{s.permissions.length === 1 ? '' : 's'} · as of {clock(s.at)}
            </span>
          </div>
          {s.permissions.length === 0 ? (
            <div className="empty empty-bad" data-testid="scope-empty">
              Nothing in scope{s.status !== 'active' ? ` (identity ${s.status})` : ''}.
            </div>
          ) : (
            <table className="grid-table" data-testid="scope-table">
              <thead>
                <tr>
                  <th>Action</th>
                  <th>Resource</th>
                  <th>Access</th>
                  <th>Valid until</th>
                  <th>Since</th>
                  <th>Grants</th>
                  <th title="Approvals and just-in-time grants given for a session hold only in that session">Only in session</th>
                </tr>
              </thead>
              <tbody>
                {s.permissions.map((p) => {
                  const left = p.validUntil ? Date.parse(p.validUntil) - now : null;
                  return (
                    <tr key={perm(p)} data-testid="scope-row" data-action={p.action} data-resource={p.resource}>
                      <td className="mono">{p.action}</td>
                      <td className="mono">{p.resource}</td>
                      <td>
                        <span className={`badge access-${p.access}`}>{p.access}</span>
                      </td>
                      <td className={left !== null && left < 60_000 ? 'tone-bad' : ''} title={p.validUntil ? dateTime(p.validUntil) : 'no expiry without a new event'} data-testid="valid-until">
                        {p.validUntil ? countdown(p.validUntil, now) : '—'}
                      </td>
                      <td className="mono muted">{p.sinceVersion !== null ? `v${p.sinceVersion}` : ''}</td>
                      <td className="small muted">{p.grants.join(', ')}</td>
                      <td className="mono small" data-testid="bound-sessions">{p.sessions ? p.sessions.join(', ') : <span className="muted">any</span>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          <Live s={s} now={now} />
        </section>
        <section className="panel">
          <h2>Explain</h2>
          <ExplainBox identityId={identityId} scope={s} history={history} />
        </section>
      </div>

      <section className="panel">
        <div className="panel-head">
          <h2>Scope over time</h2>
          <span className="muted small">permissions in scope after each change (from the audit log)</span>
        </div>
        <ChartView
          type="line"
          label="Permissions in scope over time"
          data={timeline}
          height={170}
          options={{
            parsing: false,
            scales: {
              x: { type: 'linear', ticks: { callback: (v) => clock(new Date(Number(v)).toISOString()), maxTicksLimit: 8 }, grid: { display: false } },
              y: { beginAtZero: true, ticks: { precision: 0 } },
            },
            plugins: { legend: { display: false }, tooltip: { callbacks: { title: (items) => (items[0] ? dateTime(new Date(items[0].parsed.x ?? 0).toISOString()) : '') } } },
          }}
        />
      </section>

      <section className="panel">
        <div className="panel-head">
          <h2>Timeline</h2>
          <span className="muted small">every scope change, revocation and alert with its cause, newest first</span>
          {historyError ? <span className="error small">{historyError}</span> : null}
        </div>
        <ol className="timeline" data-testid="timeline">
          {history.map((h) => (
            <li key={key(h)} className={fresh.has(key(h)) ? 'fresh' : ''} data-testid="timeline-item" data-kind={h.kind} data-direction={h.direction ?? ''}>
              <span className="when mono small" title={dateTime(h.at)}>
                {clock(h.at)}
              </span>
              <DirectionBadge direction={h.direction} kind={h.kind} />
              <span className="mono small muted">{h.version !== null ? `v${h.version}` : ''}</span>
              <div className="what">
                <div>{h.summary}</div>
                {h.added.length || h.removed.length ? (
                  <div className="perm-deltas">
                    {h.removed.map((p) => (
                      <span key={`-${perm(p)}`} className="chip chip-minus">
                        − {perm(p)}
                      </span>
                    ))}
                    {h.added.map((p) => (
                      <span key={`+${perm(p)}`} className="chip chip-plus">
                        + {perm(p)}
                      </span>
                    ))}
                  </div>
                ) : null}
                <CauseChips cause={h.cause} />
              </div>
            </li>
          ))}
        </ol>
        {next ? (
          <button type="button" className="btn btn-ghost" onClick={() => loadHistory(next)}>
            Older…
          </button>
        ) : null}
      </section>
    </div>
  );
}

function Live({ s, now }: { s: ScopeView; now: number }): ReactNode {
  if (s.sessions.length + s.approvals.length + s.leases.length === 0) return <p className="muted small">No open session, approval or secret lease.</p>;
  return (
    <div className="live-lists">
      {s.sessions.map((x) => (
        <span key={x.sessionId} className="chip" title={x.attested ? 'session started by a trusted issuer' : 'observed session: not accepted at enforcement points'}>
          {x.attested ? 'session' : 'observed session'} <span className="mono">{x.sessionId}</span>
          {x.task ? ` · ${x.task}` : ''}
          {x.mfa ? ' · mfa' : ''}
          {x.expiresAt ? ` · ${countdown(x.expiresAt, now)}` : ''}
        </span>
      ))}
      {s.approvals.map((a) => (
        <span key={a.approvalId} className="chip chip-plus" title={`approved by ${a.approvedBy}${a.human ? ' (verified person)' : ''}`}>
          approval {a.escalation}
          {a.sessionId ? <> · for session <span className="mono">{a.sessionId}</span></> : ''} · {countdown(a.expiresAt, now)}
        </span>
      ))}
      {s.leases.map((l) => (
        <span key={l.leaseId} className="chip" title={l.system}>
          lease {l.secretPath} · {countdown(l.expiresAt, now)}
        </span>
      ))}
    </div>
  );
}

function ExplainBox({ identityId, scope, history }: { identityId: string; scope: ScopeView; history: readonly HistoryItem[] }): ReactNode {
  const { api } = useSession();
  const known = useMemo(() => {
    const m = new Map<string, { action: string; resource: string }>();
    for (const p of scope.permissions) m.set(perm(p), p);
    for (const h of history) for (const p of [...h.added, ...h.removed]) m.set(perm(p), p);
    return [...m.values()];
  }, [scope, history]);
  const [action, setAction] = useState('');
  const [resource, setResource] = useState('');
  const [answer, setAnswer] = useState<Explanation | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    if (!action && known[0]) {
      setAction(known[0].action);
      setResource(known[0].resource);
    }
  }, [known, action]);
  const ask = (): void => {
    setError(undefined);
    api.get<Explanation>(`/v1/identities/${encodeURIComponent(identityId)}/explain?action=${encodeURIComponent(action)}&resource=${encodeURIComponent(resource)}`).then(setAnswer, (e: Error) => {
      setAnswer(undefined);
      setError(e.message);
    });
  };
  return (
    <div className="explain">
      <form
        className="explain-form"
        onSubmit={(e) => {
          e.preventDefault();
          ask();
        }}
      >
        <input list="explain-actions" placeholder="action, e.g. db:write" aria-label="Action" value={action} onChange={(e) => setAction(e.target.value)} data-testid="explain-action" />
        <input list="explain-resources" placeholder="resource, e.g. db/payments" aria-label="Resource" value={resource} onChange={(e) => setResource(e.target.value)} data-testid="explain-resource" />
        <button type="submit" className="btn" disabled={!action || !resource} data-testid="explain-submit">
          Explain
        </button>
        <datalist id="explain-actions">
          {[...new Set(known.map((k) => k.action))].map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <datalist id="explain-resources">
          {[...new Set(known.filter((k) => !action || k.action === action).map((k) => k.resource))].map((r) => (
            <option key={r} value={r} />
          ))}
        </datalist>
      </form>
      {known.length > 0 ? (
        <div className="chips small">
          {known.slice(0, 8).map((k) => (
            <button
              type="button"
              key={perm(k)}
              className="chip chip-button"
              onClick={() => {
                setAction(k.action);
                setResource(k.resource);
              }}
            >
              {perm(k)}
            </button>
          ))}
        </div>
      ) : null}
      {error ? (
        <p className="error small" role="alert">
          {error}
        </p>
      ) : null}
      {answer ? (
        <div className={`verdict ${answer.allowed ? 'verdict-allow' : 'verdict-deny'}`} data-testid="explain-answer" data-allowed={answer.allowed}>
          <div className="verdict-head">
            <b>{answer.allowed ? 'ALLOWED' : 'DENIED'}</b> <span className="mono">{perm(answer)}</span>
          </div>
          <p>{answer.summary}</p>
          <dl className="facts compact">
            <div>
              <dt>Holds until</dt>
              <dd>{answer.validUntil ? dateTime(answer.validUntil) : 'a new event changes it'}</dd>
            </div>
            <div>
              <dt>Policies</dt>
              <dd>
                {answer.policies.determining.join(', ') || '—'} <span className="muted small">(set v{answer.policies.policySetVersion})</span>
              </dd>
            </div>
            <div>
              <dt>Provisioned by</dt>
              <dd>{answer.provisioned.map((g) => `${g.role ?? g.grantId}${g.jit ? ' (JIT)' : ''}`).join(', ') || 'nothing'}</dd>
            </div>
            {answer.orders.length ? (
              <div>
                <dt>Orders</dt>
                <dd>
                  {answer.orders.map((o) => (
                    <span key={o.orderId} className="chip chip-order">
                      {o.kind} {o.orderId} by {o.actor}: {o.reason}
                    </span>
                  ))}
                </dd>
              </div>
            ) : null}
            {answer.context ? (
              <div>
                <dt>Context</dt>
                <dd className="small">
                  sessions {answer.context.session.count}
                  {answer.context.session.mfa ? ' (mfa)' : ''} · risk {answer.context.riskScore}
                  {answer.context.approvals.length ? ` · approvals ${answer.context.approvals.join(', ')}` : ''}
                  {answer.context.anomalies.length ? ` · anomalies ${answer.context.anomalies.join(', ')}` : ''}
                  {answer.context.incidentNamespaces.length ? ` · incident in ${answer.context.incidentNamespaces.join(', ')}` : ''}
                </dd>
              </div>
            ) : null}
          </dl>
        </div>
      ) : null}
    </div>
  );
}
