import { validateResult } from '@livescope/adapters';
import { CaepError, mapReceivedSet, verifySet, type TrustedIssuer } from '@livescope/caep';
import type { LivescopeEventInput } from '@livescope/contracts';
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
  readonly now?: () => number;
}

export interface ReceiveOutcome {
  readonly status: number;
  readonly body?: { readonly err: string; readonly description: string };
  readonly events?: number;
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
 * The SSF receiver (RFC 8935 push endpoint): verifies a pushed SET (issuer trusted, signature with
 * that issuer's keys, our audience, age), rejects a replayed `jti`, maps it to livescope events and
 * writes them to Kafka before answering 202. Rejections answer 400 with the RFC 8935 error code
 * (401 when the push is not authenticated), 503 when Kafka did not take the events (the transmitter
 * retries; event ids derive from iss and jti, so nothing is applied twice). Every outcome is counted.
 */
export class SetReceiver {
  private readonly trusted = new Map<string, { config: TrustedIssuerConfig; issuer: TrustedIssuer }>();
  private readonly now: () => number;

  constructor(private readonly o: SetReceiverOptions) {
    this.now = o.now ?? Date.now;
    for (const c of o.issuers) {
      const keys = c.jwks ? createLocalJWKSet(c.jwks) : createRemoteJWKSet(new URL(c.jwksUri!), { timeoutDuration: 5000, cooldownDuration: 30_000 });
      this.trusted.set(c.issuer, { config: c, issuer: { issuer: c.issuer, audience: c.audience, keys } });
    }
  }

  async receive(body: string, authorization: string | undefined): Promise<ReceiveOutcome> {
    const outcome = await this.handle(body, authorization);
    this.o.metrics.receivedSets.inc({ outcome: outcome.status === 202 ? 'accepted' : (outcome.body?.err ?? String(outcome.status)) });
    return outcome;
  }

  private async handle(body: string, authorization: string | undefined): Promise<ReceiveOutcome> {
    const reject = (err: string, description: string, status = 400): ReceiveOutcome => {
      this.o.logger.warn({ err, description }, 'SET rejected');
      return { status, body: { err, description } };
    };
    const iss = unverifiedIss(body.trim());
    const entry = iss ? this.trusted.get(iss) : undefined;
    if (entry?.config.authorization && !sameSecret(authorization, entry.config.authorization)) return reject('authentication_failed', 'the push is not authenticated for this issuer', 401);
    const nowMs = this.now();
    let verified;
    try {
      verified = await verifySet(body, { trusted: (i) => this.trusted.get(i)?.issuer, nowSec: Math.floor(nowMs / 1000), maxAgeSec: this.o.maxAgeSec });
    } catch (e) {
      if (CaepError.is(e)) return reject(e.code, e.message);
      throw e;
    }
    const { payload } = verified;
    if (await this.o.store.hasReceived(payload.iss, payload.jti)) return reject('invalid_request', `jti ${payload.jti} from ${payload.iss} was already received (replay)`);
    const config = this.trusted.get(payload.iss)!.config;
    const mapped = mapReceivedSet(payload, config);
    const checked = validateResult({ ...mapped, raw: body });
    if (checked.deadLetter) return reject('invalid_request', checked.deadLetter.message);
    if (checked.events.length > 0) {
      try {
        await this.o.publish(checked.events);
      } catch (e) {
        this.o.logger.error({ err: e, jti: payload.jti }, 'could not write the events of a received SET');
        return { status: 503, body: { err: 'temporarily_unavailable', description: 'the events could not be stored; retry' } };
      }
    } else {
      this.o.logger.info({ iss: payload.iss, jti: payload.jti, why: mapped.skipped }, 'SET accepted without livescope events');
    }
    await this.o.store.rememberReceived(payload.iss, payload.jti, nowMs);
    return { status: 202, events: checked.events.length };
  }
}
