import { ControlPlaneError } from '../ControlPlaneError.js';

/** The source of events the control plane publishes (CloudEvents `source`). */
export const EVENT_SOURCE = 'livescope/control-plane';

/**
 * The absolute expiry of an order or approval from `ttlSeconds` or `expiresAt` (never both), in
 * the future and within `maxTtlMs`. Undefined when neither is given.
 */
export function expiryOf(req: { readonly ttlSeconds?: number | undefined; readonly expiresAt?: string | undefined }, nowMs: number, maxTtlMs: number): string | undefined {
  if (req.ttlSeconds !== undefined && req.expiresAt !== undefined) throw new ControlPlaneError('INVALID_REQUEST', 'give ttlSeconds or expiresAt, not both', { paths: ['ttlSeconds', 'expiresAt'] });
  if (req.ttlSeconds !== undefined) {
    if (req.ttlSeconds * 1000 > maxTtlMs) throw new ControlPlaneError('INVALID_REQUEST', `ttlSeconds: at most ${Math.floor(maxTtlMs / 1000)} seconds`, { paths: ['ttlSeconds'] });
    return new Date(nowMs + req.ttlSeconds * 1000).toISOString();
  }
  if (req.expiresAt !== undefined) {
    const at = Date.parse(req.expiresAt);
    if (at <= nowMs) throw new ControlPlaneError('INVALID_REQUEST', 'expiresAt: must be in the future', { paths: ['expiresAt'] });
    if (at - nowMs > maxTtlMs) throw new ControlPlaneError('INVALID_REQUEST', `expiresAt: at most ${Math.floor(maxTtlMs / 1000)} seconds from now`, { paths: ['expiresAt'] });
    return new Date(at).toISOString();
  }
  return undefined;
}

export interface Stamp {
  /** Id of the event to publish. */
  readonly eventId: string;
  readonly nowMs: number;
}

