import { validateResult } from '@livescope/adapters';
import { CaepError, mapReceivedSet, verifySet, type TrustedIssuer, type VerifiedSet } from '@livescope/caep';
import { isControlEventType, type LivescopeEventInput } from '@livescope/contracts';
import type { Logger } from '@livescope/transport';
import { createLocalJWKSet, createRemoteJWKSet } from 'jose';
import type { TrustedIssuerConfig } from '../config.js';
import type { InteropMetrics } from '../InteropMetrics.js';
import { sameSecret } from './ReceiverClients.js';
import type { SsfStore } from './SsfStore.js';

export interface SetReceiverOptions {
  readonly issuers: readonly TrustedIssuerConfig[];
  readonly store: Pick<SsfStore, 'hasReceived' | 'rememberReceived'>;
  /** Writes the mapped events (to the events topic). */
  readonly publish: (events: readonly LivescopeEventInput[]) => Promise<void>;
  readonly maxAgeSec: number;
  readonly logger: Logger;
  readonly metrics: InteropMetrics;
  /**
   * Whether this receiver's producer key may send a control event type (identity.disabled…).
   * Default: none (no producer key): such events are withheld and counted; their narrowing fallback
   * (a critical anomaly) is published instead.
   */
  readonly controlAllowed?: (eventType: string) => boolean;
  readonly now?: () => number;
}

export interface ReceiveOutcome {
  readonly status: number;
  readonly body?: { readonly err: string; readonly description: string };
  readonly events?: number;
  /** Set when the SET was accepted but changed nothing: why. */
  readonly noEffect?: string;
  /** The verified SET (for poll receivers that check verification states). */
  readonly verified?: VerifiedSet;
}

const unverifiedIss = (jws: string): string | undefined => {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The SSF receiver: verifies a SET (issuer trusted, signature with that issuer's keys, our audience,
 * age, no SSF-forbidden claims), rejects a replayed `jti`, maps it to livescope events and writes them
 * to Kafka before answering 202. Every SET ends as events, an RFC 8935 error (400 with the code; 401
 * when the push is not authenticated; 503 when Kafka did not take the events — the transmitter
 * retries, event ids derive from iss and jti), or "accepted, no effect": counted by reason and
 * logged as a warning (alert on `livescope_interop_ssf_no_effect_sets_total`). Used by the push endpoint
 * (RFC 8935) and by the poll receiver (RFC 8936), whose errors become `setErrs`.
 */
export class SetReceiver {
  private readonly trusted = new Map<string, { config: TrustedIssuerConfig; issuer: TrustedIssuer }>();
  private readonly now: () => number;
  private readonly controlAllowed: (eventType: string) => boolean;

  constructor(private readonly o: SetReceiverOptions) {
    this.now = o.now ?? Date.now;
    this.controlAllowed = o.controlAllowed ?? (() => false);
    for (const c of o.issuers) this.trust(c);
  }

  /** Trusts an issuer (a transmitter this instance polls is added once its metadata is read). */
  trust(c: TrustedIssuerConfig): void {
    const keys = c.jwks ? createLocalJWKSet(c.jwks) : createRemoteJWKSet(new URL(c.jwksUri!), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    this.trusted.set(c.issuer, { config: c, issuer: { issuer: c.issuer, audience: c.audience, keys } });
  }

  async receive(body: string, authorization: string | undefined, via: 'push' | 'poll' = 'push'): Promise<ReceiveOutcome> {
    const outcome = await this.handle(body, authorization, via);
    this.o.metrics.receivedSets.inc({ outcome: outcome.status === 202 ? (outcome.noEffect ? 'accepted_no_effect' : 'accepted') : (outcome.body?.err ?? String(outcome.status)) });
    return outcome;
  }

  private async handle(body: string, authorization: string | undefined, via: 'push' | 'poll'): Promise<ReceiveOutcome> {
    const reject = (code: string, description: string, status = 400, cause?: unknown): ReceiveOutcome => {
      this.o.logger.warn({ code, description, via, ...(cause ? { err: cause } : {}) }, 'SET rejected');
      return { status, body: { err: code, description } };
    };
    const iss = unverifiedIss(body.trim());
    const entry = iss ? this.trusted.get(iss) : undefined;
    if (via === 'push' && entry?.config.authorization && !sameSecret(authorization, entry.config.authorization)) return reject('authentication_failed', 'the push is not authenticated for this issuer', 401);
    const nowMs = this.now();
    let verified: VerifiedSet;
    try {
      verified = await verifySet(body, { trusted: (i) => this.trusted.get(i)?.issuer, nowSec: Math.floor(nowMs / 1000), maxAgeSec: this.o.maxAgeSec });
    } catch (e) {
      if (CaepError.is(e)) return reject(e.code, e.message, 400, e);
      throw e;
    }
    const { payload } = verified;
    if (await this.o.store.hasReceived(payload.iss, payload.jti)) return reject('invalid_request', `jti ${payload.jti} from ${payload.iss} was already received (replay)`);
    const config = this.trusted.get(payload.iss)!.config;
    const mapped = mapReceivedSet(payload, config);
    if (mapped.refused) return reject(mapped.refused.err, mapped.refused.description);
    const checked = validateResult({ ...mapped, raw: body });
    if (checked.deadLetter) return reject('invalid_request', checked.deadLetter.message);
    const withheld = checked.events.filter((e) => isControlEventType(e.type) && !this.controlAllowed(e.type));
    let events = checked.events.filter((e) => !withheld.includes(e));
    let noEffect: string | undefined;
    let reason: string | undefined;
    if (withheld.length) {
      for (const e of withheld) this.o.metrics.withheld.inc({ event_type: e.type });
      const types = [...new Set(withheld.map((e) => e.type))].join(', ');
      if (events.length === 0 && mapped.fallback?.length) events = [...mapped.fallback];
      this.o.logger.error({ iss: payload.iss, jti: payload.jti, withheld: types }, `SET control events withheld: needs a producer key allowed to send ${types}${events.length ? '; its narrowing fallback was applied instead' : ''}`);
      if (events.length === 0) {
        noEffect = `needs a producer key allowed to send ${types}`;
        reason = 'needs-producer-key';
      }
    }
    if (events.length > 0) {
      try {
        await this.o.publish(events);
      } catch (e) {
        this.o.logger.error({ err: e, jti: payload.jti }, 'could not write the events of a received SET');
        return { status: 503, body: { err: 'temporarily_unavailable', description: 'the events could not be stored; retry' } };
      }
    } else if (!noEffect) {
      noEffect = mapped.skipped ? `${mapped.skipped.message} (${mapped.skipped.field})` : 'nothing to map';
      reason = mapped.control ? 'stream-control' : mapped.unmapped ? 'unmapped-event-type' : 'no-effect';
    }
    if (noEffect) {
      this.o.metrics.noEffect.inc({ reason: reason! });
      if (reason === 'stream-control') this.o.logger.info({ iss: payload.iss, jti: payload.jti, type: mapped.control?.type }, 'SSF stream control event received');
      else this.o.logger.warn({ iss: payload.iss, jti: payload.jti, why: noEffect }, 'SET accepted with no effect');
    }
    await this.o.store.rememberReceived(payload.iss, payload.jti, nowMs);
    return { status: 202, events: events.length, ...(noEffect ? { noEffect } : {}), verified };
  }
}
