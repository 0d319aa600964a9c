import type { ReactNode } from 'react';
import type { StreamState } from '../hooks/useEventStream';

const label: Record<StreamState['status'], string> = {
  connecting: 'connecting',
  open: 'live',
  reconnecting: 'reconnecting',
  unauthorized: 'not allowed',
  closed: 'closed',
};

/** A dot and a word: whether the page's Server-Sent Events stream is live. */
export function StreamIndicator({ state, what }: { state: StreamState; what: string }): ReactNode {
  const title = `${what}: ${label[state.status]}${state.detail ? ` (${state.detail})` : ''}; ${state.connections} connection(s)`;
  return (
    <span className={`live live-${state.status}`} title={title} data-testid="stream-status" data-status={state.status} data-connections={state.connections}>
      <span className="dot" />
      {label[state.status]}
    </span>
  );
}
