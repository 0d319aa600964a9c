import type { DeadLetterReason, DriftAlert, Revocation, ScopeChange, ScopeSnapshot } from '@livescope/contracts';

/** Everything the engine decided while handling input, in the order it decided it. */
export interface EngineOutput {
  readonly changes: ScopeChange[];
  readonly snapshots: ScopeSnapshot[];
  readonly revocations: Revocation[];
  readonly alerts: DriftAlert[];
}

export const emptyOutput = (): EngineOutput => ({ changes: [], snapshots: [], revocations: [], alerts: [] });

export function clearOutput(out: EngineOutput): void {
  out.changes.length = 0;
  out.snapshots.length = 0;
  out.revocations.length = 0;
  out.alerts.length = 0;
}

export const outputSize = (out: EngineOutput): number => out.changes.length + out.snapshots.length + out.revocations.length + out.alerts.length;

/** How one input event was handled. */
export type HandleResult =
  | { readonly status: 'applied'; readonly identities: number }
  | { readonly status: 'unchanged' }
  | { readonly status: 'duplicate' }
  | { readonly status: 'rejected'; readonly reason: DeadLetterReason; readonly message: string };
