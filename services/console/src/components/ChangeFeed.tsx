import type { ReactNode } from 'react';
import type { ChangeItem } from '../api/types';
import { clock } from '../format';
import { identityPath, Link } from '../router';
import { CauseChips, DirectionBadge } from './Badges';

export interface FeedItem extends ChangeItem {
  /** Arrived on the stream while the page was open (highlighted). */
  readonly fresh: boolean;
}

/** Scope changes and revocations as they happen, newest first, with their causes. */
export function ChangeFeed({ items }: { items: readonly FeedItem[] }): ReactNode {
  if (items.length === 0) return <div className="empty">No scope change yet.</div>;
  return (
    <ol className="feed" data-testid="change-feed">
      {items.map((c) => (
        <li key={`${c.partition}/${c.seq}`} className={c.fresh ? 'fresh' : ''} data-kind={c.kind} data-identity={c.identityId}>
          <div className="feed-head">
            <span className="muted mono small">{clock(c.at)}</span>
            <DirectionBadge direction={c.direction} kind={c.kind} />
            <Link className="mono ellipsis" to={identityPath(c.identityId)}>
              {c.identityId}
            </Link>
            {c.version !== null ? <span className="muted mono small">v{c.version}</span> : null}
          </div>
          <div className="feed-body">
            {c.kind === 'revocation' && c.revocation ? (
              <span>
                revoked {c.revocation.type} <span className="mono">{c.revocation.id}</span>
              </span>
            ) : (
              <span className="deltas">
                {c.added.length ? <span className="plus">+{c.added.length}</span> : null}
                {c.removed.length ? <span className="minus">−{c.removed.length}</span> : null}
                {c.scopeSize !== null ? <span className="muted">→ {c.scopeSize} in scope</span> : null}
              </span>
            )}
            <CauseChips cause={c.cause} />
          </div>
        </li>
      ))}
    </ol>
  );
}
