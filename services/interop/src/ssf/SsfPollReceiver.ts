import { randomUUID } from 'node:crypto';
import { CaepEventType, DeliveryMethod, RiscEventType, SsfEventType } from '@livescope/caep';
import type { Logger } from '@livescope/transport';
import type { PollStreamConfig } from '../config.js';
import { InteropError } from '../InteropError.js';
import type { InteropMetrics } from '../InteropMetrics.js';
import { sleep } from '@livescope/errors';
import type { SetReceiver } from './SetReceiver.js';

/** The event types a poll stream asks for by default: those the receiver acts on, and the stream events. */
export const DEFAULT_EVENTS_REQUESTED: readonly string[] = [
  CaepEventType.sessionRevoked,
  CaepEventType.credentialChange,
  CaepEventType.riskLevelChange,
  CaepEventType.assuranceLevelChange,
  RiscEventType.accountDisabled,
  RiscEventType.accountEnabled,
  RiscEventType.accountPurged,
  RiscEventType.accountCredentialChangeRequired,
  RiscEventType.credentialCompromise,
  SsfEventType.verification,
  SsfEventType.streamUpdated,
];

export interface SsfPollReceiverOptions {
  /** One entry of LIVESCOPE_SSF_POLL_STREAMS, its client secret read from a file already when given as one. */
  readonly config: PollStreamConfig;
  readonly receiver: SetReceiver;
  readonly logger: Logger;
  readonly metrics: InteropMetrics;
  readonly fetch?: typeof fetch;
  /** Largest wait of one long poll the transmitter may hold (ms), plus margin. Default 70 s. */
  readonly requestTimeoutMs?: number;
}

interface Metadata {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly configuration_endpoint: string;
  readonly verification_endpoint?: string;
  readonly delivery_methods_supported?: readonly string[];
}

/** The well-known URL of an issuer's metadata (SSF 1.0 §7.2: inserted between host and path). */
export function wellKnownUrl(issuer: string, name: string): string {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}/.well-known/${name}${path}`;
}

/**
 * An SSF receiver that polls (RFC 8936). It reads the transmitter's configuration metadata
 * (`/.well-known/ssf-configuration`, checking that `issuer` is the one configured), authenticates with
 * OAuth 2.0 client credentials (or a static bearer token), finds its stream by description or creates
 * one with poll delivery through the stream management API (checking `iss` and `aud` of the answer),
 * trusts the transmitter's JWKS, asks for a verification event and checks its `state`, then polls:
 * each SET is verified and mapped by the SetReceiver; accepted ones are acknowledged in the next poll,
 * rejected ones reported in `setErrs` with their RFC 8935 code, and SETs Kafka did not take are left
 * unacknowledged so the transmitter returns them again.
 */
export class SsfPollReceiver {
  private readonly fetchImpl: typeof fetch;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private token: { value: string; expiresAt: number } | undefined;
  private metadata: Metadata | undefined;
  private pendingStates = new Set<string>();
  /** The stream this receiver polls (once started). */
  streamId: string | undefined;
  /** Verification states echoed back by the transmitter (for operators and tests). */
  readonly verifiedStates: string[] = [];
  private ready!: () => void;
  /** Resolves once the stream exists and its first poll was sent. */
  readonly started = new Promise<void>((r) => (this.ready = r));

  constructor(private readonly o: SsfPollReceiverOptions) {
    this.fetchImpl = o.fetch ?? fetch;
  }

  get transmitter(): string {
    return this.o.config.transmitter.replace(/\/+$/, '');
  }

  start(): void {
    this.running = this.run().catch((e: unknown) => {
      if (!this.abort.signal.aborted) this.o.logger.error({ err: e, transmitter: this.transmitter }, 'SSF poll receiver stopped');
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.setUp();
        this.ready();
        await this.pollLoop();
      } catch (e) {
        if (this.abort.signal.aborted) return;
        this.o.metrics.pollRequests.inc({ outcome: 'error' });
        if (InteropError.is(e) && e.classification === 'fatal') throw e;
        this.o.logger.warn({ err: e, transmitter: this.transmitter }, 'SSF poll failed; retrying');
        await sleep(this.o.config.retryMs, this.abort.signal);
      }
    }
  }

  private async json(url: string, init: RequestInit & { auth?: boolean } = {}): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) };
    if (init.auth) headers.authorization = `Bearer ${await this.accessToken()}`;
    const res = await this.fetchImpl(url, { ...init, headers, signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.o.requestTimeoutMs ?? 70_000)]) });
    const text = await res.text();
    if (res.status === 401 && init.auth) this.token = undefined;
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  private async accessToken(): Promise<string> {
    const c = this.o.config;
    if (c.bearerToken) return c.bearerToken;
    if (this.token && this.token.expiresAt > Date.now() + 30_000) return this.token.value;
    if (!c.clientId || !c.clientSecret) throw new InteropError('CONFIG', 'fatal', `poll stream ${this.transmitter}: give bearerToken, or clientId and clientSecret`);
    const endpoint = c.tokenEndpoint ?? (((await this.json(wellKnownUrl(this.transmitter, 'oauth-authorization-server'))).body as { token_endpoint?: string } | undefined)?.token_endpoint);
    if (!endpoint) throw new InteropError('DELIVERY', 'transient', `poll stream ${this.transmitter}: no token endpoint (configure tokenEndpoint)`);
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...(c.scope ? { scope: c.scope } : {}) });
    const basic = Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64');
    const res = await this.fetchImpl(endpoint, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString(), signal: this.abort.signal });
    const body = (await res.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (res.status !== 200 || !body.access_token) {
      throw new InteropError('DELIVERY', res.status === 401 || res.status === 400 ? 'fatal' : 'transient', `poll stream ${this.transmitter}: token request refused (${res.status} ${body.error ?? ''})`);
    }
    this.token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 300) * 1000 };
    return body.access_token;
  }

  private async setUp(): Promise<void> {
    const c = this.o.config;
    const meta = (await this.json(wellKnownUrl(this.transmitter, 'ssf-configuration'))).body as Metadata | undefined;
    if (!meta || meta.issuer?.replace(/\/+$/, '') !== this.transmitter) throw new InteropError('DELIVERY', 'fatal', `transmitter metadata of ${this.transmitter} names issuer ${meta?.issuer ?? '(none)'}: it must be identical (SSF 1.0 §7.4)`);
    if (meta.delivery_methods_supported && !meta.delivery_methods_supported.includes(DeliveryMethod.poll)) throw new InteropError('DELIVERY', 'fatal', `transmitter ${this.transmitter} does not support poll delivery`);
    this.metadata = meta;
    this.o.receiver.trust({ issuer: meta.issuer, audience: [c.audience], jwksUri: meta.jwks_uri, identityTemplate: c.identityTemplate, sessionTemplate: c.sessionTemplate, riskScores: c.riskScores, anomalyTtlMs: c.anomalyTtlMs });
    const listed = await this.json(meta.configuration_endpoint, { auth: true });
    if (listed.status !== 200) throw new InteropError('DELIVERY', 'transient', `reading streams at ${meta.configuration_endpoint}: ${listed.status}`);
    const streams = (Array.isArray(listed.body) ? listed.body : [listed.body]) as { stream_id: string; description?: string; delivery?: { method?: string } }[];
    let stream = streams.find((s) => s?.description === c.description && s.delivery?.method === DeliveryMethod.poll) as Record<string, unknown> | undefined;
    if (!stream) {
      const created = await this.json(meta.configuration_endpoint, { method: 'POST', auth: true, body: JSON.stringify({ delivery: { method: DeliveryMethod.poll }, events_requested: c.eventsRequested ?? DEFAULT_EVENTS_REQUESTED, description: c.description }) });
      if (created.status !== 201) throw new InteropError('DELIVERY', 'transient', `creating a poll stream at ${meta.configuration_endpoint}: ${created.status} ${JSON.stringify(created.body)}`);
      stream = created.body as Record<string, unknown>;
    }
    // SSF 1.0 §8.1.1.1: the answer must name the issuer the metadata came from, and the audience agreed.
    if (stream.iss !== meta.issuer) throw new InteropError('DELIVERY', 'fatal', `stream ${String(stream.stream_id)} names iss ${String(stream.iss)}, not ${meta.issuer}`);
    if (![stream.aud].flat().includes(c.audience)) throw new InteropError('DELIVERY', 'fatal', `stream ${String(stream.stream_id)} has aud ${JSON.stringify(stream.aud)}, not ${c.audience}`);
    const delivery = stream.delivery as { method?: string; endpoint_url?: string } | undefined;
    if (delivery?.method !== DeliveryMethod.poll || !delivery.endpoint_url) throw new InteropError('DELIVERY', 'fatal', `stream ${String(stream.stream_id)} is not a poll stream`);
    this.streamId = String(stream.stream_id);
    this.pollUrl = delivery.endpoint_url;
    if (meta.verification_endpoint) {
      const state = randomUUID();
      this.pendingStates.add(state);
      const v = await this.json(meta.verification_endpoint, { method: 'POST', auth: true, body: JSON.stringify({ stream_id: this.streamId, state }) });
      if (v.status !== 204 && v.status !== 429) this.o.logger.warn({ status: v.status, stream: this.streamId }, 'verification request refused');
    }
    this.o.logger.info({ transmitter: this.transmitter, stream: this.streamId }, 'SSF poll receiver ready');
  }

  private pollUrl = '';

  private async pollLoop(): Promise<void> {
    let ack: string[] = [];
    let setErrs: Record<string, { err: string; description: string }> = {};
    while (!this.abort.signal.aborted) {
      const r = await this.json(this.pollUrl, { method: 'POST', auth: true, body: JSON.stringify({ maxEvents: this.o.config.maxEvents, returnImmediately: false, ...(ack.length ? { ack } : {}), ...(Object.keys(setErrs).length ? { setErrs } : {}) }) });
      if (r.status === 401) continue;
      if (r.status === 404) throw new InteropError('DELIVERY', 'transient', `stream ${this.streamId} is gone; creating it again`);
      if (r.status !== 200) throw new InteropError('DELIVERY', 'transient', `poll of ${this.pollUrl}: ${r.status} ${JSON.stringify(r.body)}`);
      ack = [];
      setErrs = {};
      const sets = ((r.body as { sets?: Record<string, string> } | undefined)?.sets ?? {});
      const entries = Object.entries(sets);
      this.o.metrics.pollRequests.inc({ outcome: entries.length ? 'sets' : 'empty' });
      for (const [jti, set] of entries) {
        const outcome = await this.o.receiver.receive(set, undefined, 'poll');
        if (outcome.status === 202) {
          const verification = outcome.verified?.payload.events[SsfEventType.verification] as { state?: unknown } | undefined;
          if (verification && typeof verification.state === 'string') {
            if (this.pendingStates.delete(verification.state)) this.verifiedStates.push(verification.state);
            else {
              setErrs[jti] = { err: 'invalid_state', description: 'the verification state is not one this receiver requested' };
              continue;
            }
          }
          ack.push(jti);
        } else if (outcome.body && outcome.status < 500) {
          setErrs[jti] = { err: outcome.body.err, description: outcome.body.description };
        }
        // 503: Kafka did not take the events; left unacknowledged, the transmitter returns the SET again.
      }
    }
  }
}
