import type { ReactNode } from 'react';
import type { Cause, Direction, Severity } from '../api/types';

export function DirectionBadge({ direction, kind }: { direction: Direction | null; kind?: string }): ReactNode {
  if (kind === 'revocation') return <span className="badge badge-revocation">revocation</span>;
  if (kind === 'drift.alert') return <span className="badge badge-alert">alert</span>;
  const d = direction ?? 'refresh';
  return <span className={`badge badge-${d}`}>{d}</span>;
}

export function SeverityBadge({ severity }: { severity: Severity }): ReactNode {
  return <span className={`badge sev-${severity}`}>{severity}</span>;
}

export function StatusBadge({ status }: { status: string }): ReactNode {
  return <span className={`badge status-${status}`}>{status}</span>;
}

/** Why a change happened, as chips: the order(s) and actor, the input event, the clock, the policies. */
export function CauseChips({ cause }: { cause: Cause | null }): ReactNode {
  if (!cause) return null;
  return (
    <span className="chips">
      {cause.orderIds?.map((o) => (
        <span key={o} className="chip chip-order" title="responder order">
          {cause.eventType === 'order.lifted' ? 'lifted ' : 'order '}
          {o}
        </span>
      ))}
      {cause.timer ? <span className="chip chip-timer">time: validUntil passed</span> : null}
      {!cause.orderIds?.length && cause.eventType ? <span className="chip">{cause.eventType}</span> : null}
      {cause.actor ? <span className="chip chip-actor">by {cause.actor}</span> : null}
      {cause.policyIds?.map((p) => (
        <span key={p} className="chip chip-policy" title="Cedar policy">
          {p}
        </span>
      ))}
    </span>
  );
}
