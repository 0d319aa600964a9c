import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError } from '../api/client';
import { useSession } from '../api/session';
import type { ActiveOrder, OrderAccepted, OrdersList, OrderStatus } from '../api/types';
import { describeTarget, followOrder, LiftButton, progressText } from '../components/orders';
import { useApi } from '../hooks/useApi';
import { useNow } from '../hooks/useNow';
import { countdown, dateTime, ago } from '../format';
import { identityPath, Link } from '../router';

const KINDS = [
  { kind: 'read-only', help: 'only read access stays in scope' },
  { kind: 'deny-actions', help: 'the listed actions leave the scope' },
  { kind: 'quarantine', help: 'nothing stays in scope; sessions, tokens and leases are revoked now' },
  { kind: 'revoke-secret-leases', help: 'every lease of a secret is revoked (once)' },
  { kind: 'revoke-session', help: 'one session is ended and revoked (once)' },
  { kind: 'revoke-token', help: 'a token and its sessions are revoked (once)' },
] as const;
type Kind = (typeof KINDS)[number]['kind'];

/** Orders in force (from the workers' state), issuing one and lifting one, with the roles of the API. */
export function OrdersPage(): ReactNode {
  const { me } = useSession();
  const now = useNow(1000);
  const orders = useApi<OrdersList>('/v1/orders?limit=1000', 3000);
  return (
    <div className="page" data-testid="orders-page">
      <div className="page-head">
        <h1>Orders</h1>
        <span className="muted small">narrowing orders and revocations issued by responders; refreshed every 3 s</span>
      </div>
      <div className="grid-orders">
        <section className="panel">
          <div className="panel-head">
            <h2>In force</h2>
            <span className="muted small">{orders.data ? `${orders.data.orders.length} order(s) across ${orders.data.partitions} partitions` : ''}</span>
            {orders.error ? <span className="error small">{orders.error}</span> : null}
          </div>
          {orders.data && orders.data.orders.length === 0 ? <div className="empty">No order in force.</div> : null}
          <table className="grid-table" data-testid="orders-table">
            {orders.data && orders.data.orders.length > 0 ? (
              <thead>
                <tr>
                  <th>Order</th>
                  <th>Target</th>
                  <th>Reason</th>
                  <th>Issued</th>
                  <th>Expires</th>
                  <th>Held by</th>
                  <th />
                </tr>
              </thead>
            ) : null}
            <tbody>
              {(orders.data?.orders ?? []).map((o) => (
                <OrderRow key={o.orderId} o={o} now={now} onLifted={orders.reload} />
              ))}
            </tbody>
          </table>
        </section>
        <section className="panel">
          <h2>Issue an order</h2>
          {me.can.issueOrders ? (
            <IssueForm onIssued={orders.reload} />
          ) : (
            <p className="muted" data-testid="issue-not-allowed">
              Your roles ({me.roles.join(', ') || 'none'}) may read orders but not issue them: narrowing needs the <b>responder</b> role. The API refuses such requests (403) all the same.
            </p>
          )}
        </section>
      </div>
    </div>
  );
}

function OrderRow({ o, now, onLifted }: { o: ActiveOrder; now: number; onLifted: () => void }): ReactNode {
  const { api } = useSession();
  const [status, setStatus] = useState<OrderStatus | undefined>();
  const target = 'identityId' in o.target ? <Link to={identityPath(o.target.identityId)} className="mono">{o.target.identityId}</Link> : <span>{describeTarget(o.target)}</span>;
  return (
    <tr data-testid="order-row" data-order={o.orderId} data-actor={o.actor}>
      <td>
        <span className={`badge order-${o.kind}`}>{o.kind}</span>
        <div className="mono small">
          <button type="button" className="linklike" title="Show progress" onClick={() => void api.get<OrderStatus>(`/v1/orders/${encodeURIComponent(o.orderId)}/status`).then(setStatus)}>
            {o.orderId}
          </button>
        </div>
        {o.actions.length ? <div className="small muted">{o.actions.join(', ')}</div> : null}
        {status ? <div className="small muted">{progressText(status.issue)}</div> : null}
      </td>
      <td>{target}</td>
      <td>
        {o.reason}
        <div className="small muted">by {o.actor}</div>
      </td>
      <td className="small nowrap" title={dateTime(o.issuedAt)}>
        {ago(o.issuedAt, now)}
      </td>
      <td className="small nowrap">{o.expiresAt ? countdown(o.expiresAt, now) : 'until lifted'}</td>
      <td className="small">
        {o.partitions.holding}/{o.partitions.total} partitions
      </td>
      <td>
        <LiftButton order={o} onDone={onLifted} />
      </td>
    </tr>
  );
}

function IssueForm({ onIssued }: { onIssued: () => void }): ReactNode {
  const { api } = useSession();
  const [kind, setKind] = useState<Kind>('read-only');
  const [targetType, setTargetType] = useState<'identity' | 'selector' | 'all'>('identity');
  const [identityId, setIdentityId] = useState('');
  const [namespace, setNamespace] = useState('');
  const [idKind, setIdKind] = useState('');
  const [actions, setActions] = useState('');
  const [secretPath, setSecretPath] = useState('');
  const [sessionId, setSessionId] = useState('');
  const [tokenId, setTokenId] = useState('');
  const [reason, setReason] = useState('');
  const [ttlMinutes, setTtlMinutes] = useState('120');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ text: string; bad: boolean } | undefined>();
  const oneIdentity = kind === 'revoke-session' || kind === 'revoke-token';
  const narrowing = kind === 'read-only' || kind === 'deny-actions' || kind === 'quarantine';
  const tt = oneIdentity ? 'identity' : targetType;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const target = tt === 'identity' ? { identityId: identityId.trim() } : tt === 'all' ? { all: true } : { selector: { ...(namespace.trim() ? { namespace: namespace.trim() } : {}), ...(idKind ? { kind: idKind } : {}) } };
    const body: Record<string, unknown> = { kind, target, reason: reason.trim() };
    if (narrowing && Number(ttlMinutes) > 0) body.ttlSeconds = Math.round(Number(ttlMinutes) * 60);
    if (kind === 'deny-actions') body.actions = actions.split(/[\s,]+/).filter(Boolean);
    if (kind === 'revoke-secret-leases') body.secretPath = secretPath.trim();
    if (kind === 'revoke-session') body.sessionId = sessionId.trim();
    if (kind === 'revoke-token') body.tokenId = tokenId.trim();
    setBusy(true);
    setMsg({ text: 'publishing…', bad: false });
    try {
      const a = await api.post<OrderAccepted>('/v1/orders', body);
      setMsg({ text: `order ${a.orderId} accepted (${a.partitions} partitions)`, bad: false });
      onIssued();
      await followOrder(api, a.orderId, (s) => setMsg({ text: `order ${a.orderId} · ${progressText(s.issue)}`, bad: false }));
      onIssued();
    } catch (err) {
      setMsg({ text: err instanceof ApiError ? `${err.status} ${err.code}: ${err.message}` : (err as Error).message, bad: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="issue-form" onSubmit={(e) => void submit(e)} data-testid="issue-form">
      <label>
        Kind
        <select value={kind} onChange={(e) => setKind(e.target.value as Kind)} data-testid="issue-kind">
          {KINDS.map((k) => (
            <option key={k.kind} value={k.kind}>
              {k.kind}
            </option>
          ))}
        </select>
      </label>
      <p className="muted small">{KINDS.find((k) => k.kind === kind)?.help}</p>
      {!oneIdentity ? (
        <div className="segmented" role="radiogroup" aria-label="Target">
          {(['identity', 'selector', 'all'] as const).map((t) => (
            <button type="button" key={t} className={targetType === t ? 'on' : ''} onClick={() => setTargetType(t)} aria-pressed={targetType === t}>
              {t === 'identity' ? 'one identity' : t === 'selector' ? 'selector' : 'everyone'}
            </button>
          ))}
        </div>
      ) : null}
      {tt === 'identity' ? (
        <label>
          Identity
          <input required value={identityId} onChange={(e) => setIdentityId(e.target.value)} placeholder="workload-payments-000042" data-testid="issue-identity" />
        </label>
      ) : null}
      {tt === 'selector' ? (
        <div className="row">
          <label>
            Namespace
            <input value={namespace} onChange={(e) => setNamespace(e.target.value)} placeholder="payments" />
          </label>
          <label>
            Kind of identity
            <select value={idKind} onChange={(e) => setIdKind(e.target.value)}>
              <option value="">any</option>
              {['agent', 'workload', 'service-account', 'ci-job'].map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </label>
        </div>
      ) : null}
      {kind === 'deny-actions' ? (
        <label>
          Actions
          <input required value={actions} onChange={(e) => setActions(e.target.value)} placeholder="db:write, secrets:read" />
        </label>
      ) : null}
      {kind === 'revoke-secret-leases' ? (
        <label>
          Secret path
          <input required value={secretPath} onChange={(e) => setSecretPath(e.target.value)} placeholder="secret/payments/app" />
        </label>
      ) : null}
      {kind === 'revoke-session' ? (
        <label>
          Session
          <input required value={sessionId} onChange={(e) => setSessionId(e.target.value)} />
        </label>
      ) : null}
      {kind === 'revoke-token' ? (
        <label>
          Token
          <input required value={tokenId} onChange={(e) => setTokenId(e.target.value)} />
        </label>
      ) : null}
      <label>
        Reason
        <input required value={reason} onChange={(e) => setReason(e.target.value)} placeholder="INC-42: credential stuffing from 203.0.113.7" data-testid="issue-reason" />
      </label>
      {narrowing ? (
        <label>
          Expires after (minutes, 0 = until lifted)
          <input type="number" min={0} value={ttlMinutes} onChange={(e) => setTtlMinutes(e.target.value)} data-testid="issue-ttl" />
        </label>
      ) : null}
      <button type="submit" className={`btn ${kind === 'quarantine' ? 'btn-danger' : 'btn-warn'}`} disabled={busy || !reason.trim()} data-testid="issue-submit">
        Issue {kind}
      </button>
      {msg ? (
        <p className={msg.bad ? 'error small' : 'muted small'} data-testid="issue-progress">
          {msg.text}
        </p>
      ) : null}
    </form>
  );
}
