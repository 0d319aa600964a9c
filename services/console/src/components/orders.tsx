import { useState, type ReactNode } from 'react';
import { ApiError, type Api } from '../api/client';
import { useSession } from '../api/session';
import type { ActiveOrder, OrderAccepted, OrderStatus, OrderTarget, Progress, WhoAmI } from '../api/types';

/** Follows an order (or its lift) until it is complete and applied by every known enforcement point, or 60 s pass. */
export async function followOrder(api: Api, orderId: string, onStatus: (s: OrderStatus) => void): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const s = await api.get<OrderStatus>(`/v1/orders/${encodeURIComponent(orderId)}/status?waitMs=5000`);
    onStatus(s);
    if (s.satisfied) return;
  }
}

export function progressText(p: Progress | null): string {
  if (!p) return 'published; waiting for the workers…';
  const parts: string[] = [];
  if (p.partitions) parts.push(`${p.partitions.processed}/${p.partitions.total} partitions processed`);
  parts.push(`${p.identitiesChanged} identit${p.identitiesChanged === 1 ? 'y' : 'ies'} changed`);
  if (p.revocations) parts.push(`${p.revocations} revocation${p.revocations === 1 ? '' : 's'}`);
  parts.push(`applied by ${p.enforcers.applied}/${p.enforcers.known} enforcement point${p.enforcers.known === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

export function describeTarget(t: OrderTarget): string {
  if ('identityId' in t) return t.identityId;
  if ('all' in t) return 'every identity';
  return Object.entries(t.selector)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/** Whether the caller may lift this order: approvers any, responders their own (the API checks the same). */
export function canLift(me: WhoAmI, o: Pick<ActiveOrder, 'actor' | 'kind'>): { allowed: boolean; why: string } {
  if (['revoke-secret-leases', 'revoke-session', 'revoke-token'].includes(o.kind)) return { allowed: false, why: 'a revocation acts once; there is nothing to lift' };
  if (me.can.liftAnyOrder) return { allowed: true, why: 'lift (widens scope)' };
  if (me.can.liftOwnOrders && o.actor === me.sub) return { allowed: true, why: 'lift your own order' };
  if (me.can.liftOwnOrders) return { allowed: false, why: `issued by ${o.actor}: lifting another's order widens scope and needs the approver role` };
  return { allowed: false, why: `your roles (${me.roles.join(', ') || 'none'}) cannot lift orders` };
}

const errorText = (e: unknown): string => (e instanceof ApiError ? `${e.status} ${e.code}: ${e.message}` : (e as Error).message);

/** Lift an order: enabled only for those who may (the API refuses the others all the same). */
export function LiftButton({ order, onDone }: { order: ActiveOrder; onDone?: () => void }): ReactNode {
  const { api, me } = useSession();
  const [state, setState] = useState<'idle' | 'confirm' | 'busy' | 'done'>('idle');
  const [reason, setReason] = useState('');
  const [msg, setMsg] = useState<string | undefined>();
  const rule = canLift(me, order);
  const lift = async (): Promise<void> => {
    setState('busy');
    setMsg('publishing the lift…');
    try {
      await api.post(`/v1/orders/${encodeURIComponent(order.orderId)}/lift`, reason.trim() ? { reason: reason.trim() } : {});
      await followOrder(api, order.orderId, (s) => setMsg(`lifted · ${progressText(s.lift)}`));
      setState('done');
      onDone?.();
    } catch (e) {
      setMsg(errorText(e));
      setState('idle');
    }
  };
  if (state === 'confirm')
    return (
      <span className="inline-form">
        <input placeholder="reason (optional)" aria-label="Reason for lifting" value={reason} onChange={(e) => setReason(e.target.value)} data-testid="lift-reason" />
        <button type="button" className="btn btn-widen btn-small" onClick={() => void lift()} data-testid="lift-confirm">
          Lift now
        </button>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => setState('idle')}>
          Cancel
        </button>
      </span>
    );
  return (
    <span className="inline-form">
      <button type="button" className="btn btn-widen btn-small" disabled={!rule.allowed || state === 'busy' || state === 'done'} title={rule.why} onClick={() => setState('confirm')} data-testid="lift-button" data-order={order.orderId}>
        {state === 'done' ? 'Lifted' : 'Lift'}
      </button>
      {msg ? (
        <span className="small muted" data-testid="lift-progress">
          {msg}
        </span>
      ) : null}
    </span>
  );
}

const TTLS: { label: string; seconds: number | undefined }[] = [
  { label: '15 minutes', seconds: 900 },
  { label: '1 hour', seconds: 3600 },
  { label: '2 hours', seconds: 7200 },
  { label: '8 hours', seconds: 28_800 },
  { label: 'until lifted', seconds: undefined },
];

/** Narrow one identity now: quarantine or read-only, with a reason and a TTL. Shown only to roles that may. */
export function QuickOrder({ identityId, onIssued }: { identityId: string; onIssued?: () => void }): ReactNode {
  const { api, me } = useSession();
  const [kind, setKind] = useState<'quarantine' | 'read-only' | undefined>();
  const [reason, setReason] = useState('');
  const [ttl, setTtl] = useState(1);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | undefined>();
  if (!me.can.issueOrders)
    return (
      <p className="muted small" data-testid="order-not-allowed">
        Read-only view: your roles ({me.roles.join(', ') || 'none'}) cannot issue orders.
      </p>
    );
  const submit = async (): Promise<void> => {
    if (!kind || !reason.trim()) return;
    setBusy(true);
    setMsg('publishing…');
    try {
      const seconds = TTLS[ttl]?.seconds;
      const a = await api.post<OrderAccepted>('/v1/orders', { kind, target: { identityId }, reason: reason.trim(), ...(seconds ? { ttlSeconds: seconds } : {}) });
      setMsg(`order ${a.orderId} accepted`);
      setKind(undefined);
      setReason('');
      onIssued?.();
      await followOrder(api, a.orderId, (s) => setMsg(`order ${a.orderId} · ${progressText(s.issue)}`));
    } catch (e) {
      setMsg(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="quick-order">
      <div className="actions">
        <button type="button" className="btn btn-danger" onClick={() => setKind('quarantine')} disabled={busy} data-testid="quarantine-button">
          Quarantine
        </button>
        <button type="button" className="btn btn-warn" onClick={() => setKind('read-only')} disabled={busy} data-testid="readonly-button">
          Read-only
        </button>
      </div>
      {kind ? (
        <form
          className="order-form-inline"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <div className="muted small">
            {kind === 'quarantine' ? 'Nothing stays in scope; sessions, tokens and leases are revoked now.' : 'Only read access stays in scope.'}
          </div>
          <input required placeholder="reason, e.g. INC-42 credential stuffing" aria-label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} data-testid="order-reason" />
          <select aria-label="Time to live" value={ttl} onChange={(e) => setTtl(Number(e.target.value))} data-testid="order-ttl">
            {TTLS.map((t, i) => (
              <option key={t.label} value={i}>
                {t.label}
              </option>
            ))}
          </select>
          <button type="submit" className={`btn ${kind === 'quarantine' ? 'btn-danger' : 'btn-warn'}`} disabled={busy || !reason.trim()} data-testid="order-submit">
            {kind === 'quarantine' ? 'Quarantine now' : 'Make read-only'}
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => setKind(undefined)} disabled={busy}>
            Cancel
          </button>
        </form>
      ) : null}
      {msg ? (
        <div className="small muted" data-testid="order-progress">
          {msg}
        </div>
      ) : null}
    </div>
  );
}
