import { randomUUID } from 'node:crypto';
import { DeliveryMethod, setPayload, SsfEventType, streamUpdatedDraft, SubjectIdentifier, subjectKey, subjectsMatch, TRANSMITTED_EVENT_TYPES, verificationDraft, type SetDraft, type SetSigner } from '@livescope/caep';
import type { z } from 'zod';
import type { StreamClient } from './ReceiverClients.js';
import { SsfHttpError } from './SsfHttpError.js';
import type { OutboxEntry, SsfStore, StreamDelivery, StreamRecord } from './SsfStore.js';
import type { PollRequest, StatusUpdate, StreamRequest, SubjectRequest, VerificationRequest } from './streamRequests.js';

export interface TransmitterOptions {
  readonly store: SsfStore;
  readonly signer: SetSigner;
  /** The issuer (and base URL of the endpoints); a function because it may be known only once listening. */
  readonly issuer: () => string;
  readonly defaultSubjects: 'ALL' | 'NONE';
  readonly minVerificationIntervalSec: number;
  readonly pollWaitMs: number;
  readonly pollAckTimeoutMs: number;
  /** Also accept OAuth 2.0 client credentials (advertised in `authorization_schemes`). */
  readonly oauth?: boolean;
  /** New stream ids. Default: random (122 bits), hex. */
  readonly streamIds?: () => string;
  readonly now?: () => number;
}
type ReceiverClient = StreamClient;

const CONTROL_EVENTS: ReadonlySet<string> = new Set([SsfEventType.verification, SsfEventType.streamUpdated]);

/** Push endpoints must be HTTPS, except on the loopback interface (development, tests). */
export function acceptablePushUrl(u: string): boolean {
  const url = new URL(u);
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/**
 * The SSF 1.0 transmitter: stream management (create, read, update, replace, delete, status,
 * subjects, verification), fan-out of SETs to the streams that want them, and RFC 8936 polling.
 * HTTP-free: the routes translate requests and `SsfHttpError`s.
 */
export class Transmitter {
  private readonly now: () => number;
  /** Wakes long polls of a stream when a SET is queued for it. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(private readonly o: TransmitterOptions) {
    this.now = o.now ?? Date.now;
  }

  get eventsSupported(): readonly string[] {
    return TRANSMITTED_EVENT_TYPES;
  }

  /** The transmitter configuration metadata (`/.well-known/ssf-configuration`, SSF 1.0 §7.1). */
  metadata(): Record<string, unknown> {
    const base = this.o.issuer();
    return {
      spec_version: '1_0',
      issuer: base,
      jwks_uri: `${base}/ssf/jwks.json`,
      delivery_methods_supported: [DeliveryMethod.push, DeliveryMethod.poll],
      configuration_endpoint: `${base}/ssf/streams`,
      status_endpoint: `${base}/ssf/status`,
      add_subject_endpoint: `${base}/ssf/subjects/add`,
      remove_subject_endpoint: `${base}/ssf/subjects/remove`,
      verification_endpoint: `${base}/ssf/verify`,
      authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }, ...(this.o.oauth ? [{ spec_urn: 'urn:ietf:rfc:6749' }] : [])],
      default_subjects: this.o.defaultSubjects,
    };
  }

  /** The stream configuration as SSF returns it. */
  representation(s: StreamRecord): Record<string, unknown> {
    const delivered = this.delivered(s);
    const { authorization_header: _hidden, ...delivery } = s.delivery as StreamDelivery & { authorization_header?: string };
    return {
      stream_id: s.streamId,
      iss: this.o.issuer(),
      aud: s.aud,
      delivery,
      events_supported: this.eventsSupported,
      events_requested: s.eventsRequested,
      events_delivered: delivered,
      ...(s.description ? { description: s.description } : {}),
      min_verification_interval: this.o.minVerificationIntervalSec,
    };
  }

  private delivered(s: StreamRecord): string[] {
    const requested = s.eventsRequested.length ? s.eventsRequested : this.eventsSupported;
    return this.eventsSupported.filter((e) => requested.includes(e));
  }

  private async owned(client: ReceiverClient, streamId: string): Promise<StreamRecord> {
    const s = await this.o.store.getStream(streamId);
    if (!s || s.clientId !== client.clientId) throw new SsfHttpError(404, `no stream ${streamId} for this receiver`);
    return s;
  }

  /**
   * SSF 1.0 §8.1.1: Transmitter-Supplied properties (`iss`, `aud`, `events_supported`,
   * `events_delivered`, `min_verification_interval`) may be sent but must match; `aud` cannot be changed.
   */
  private checkTransmitterSupplied(client: ReceiverClient, body: z.infer<typeof StreamRequest>, existing?: StreamRecord): void {
    if (body.iss !== undefined && body.iss !== this.o.issuer()) throw new SsfHttpError(400, `iss must be ${this.o.issuer()}`);
    if (body.aud !== undefined && JSON.stringify([body.aud].flat().sort()) !== JSON.stringify([existing?.aud ?? client.audience].flat().sort())) throw new SsfHttpError(400, 'aud is Transmitter-Supplied and cannot be changed');
    if (body.min_verification_interval !== undefined && body.min_verification_interval !== this.o.minVerificationIntervalSec) throw new SsfHttpError(400, 'min_verification_interval does not match this transmitter');
    if (body.events_supported !== undefined && JSON.stringify([...body.events_supported].sort()) !== JSON.stringify([...this.eventsSupported].sort())) throw new SsfHttpError(400, 'events_supported does not match this transmitter');
    if (existing && body.events_delivered !== undefined) {
      const delivered = JSON.stringify([...this.delivered(existing)].sort());
      if (JSON.stringify([...body.events_delivered].sort()) !== delivered) throw new SsfHttpError(400, 'events_delivered does not match the stream');
    }
  }

  private delivery(streamId: string, d: z.infer<typeof StreamRequest>['delivery']): StreamDelivery {
    if (!d || d.method === DeliveryMethod.poll) return { method: DeliveryMethod.poll, endpoint_url: `${this.o.issuer()}/ssf/poll/${streamId}` };
    if (!acceptablePushUrl(d.endpoint_url)) throw new SsfHttpError(400, 'push endpoint_url must use https (http only on the loopback interface)');
    return { method: DeliveryMethod.push, endpoint_url: d.endpoint_url, ...(d.authorization_header ? { authorization_header: d.authorization_header } : {}) };
  }

  async create(client: ReceiverClient, body: z.infer<typeof StreamRequest>): Promise<Record<string, unknown>> {
    this.checkTransmitterSupplied(client, body);
    const streamId = this.o.streamIds?.() ?? randomUUID().replaceAll('-', '');
    const at = new Date(this.now()).toISOString();
    const s: StreamRecord = {
      streamId,
      clientId: client.clientId,
      aud: client.audience,
      delivery: this.delivery(streamId, body.delivery),
      eventsRequested: body.events_requested ?? [],
      ...(body.description ? { description: body.description } : {}),
      status: 'enabled',
      createdAt: at,
      updatedAt: at,
    };
    await this.o.store.createStream(s);
    return this.representation(s);
  }

  async read(client: ReceiverClient, streamId: string | undefined): Promise<unknown> {
    if (streamId === undefined) return (await this.o.store.listStreams(client.clientId)).map((s) => this.representation(s));
    return this.representation(await this.owned(client, streamId));
  }

  /** PATCH: Receiver-Supplied properties present are changed, missing ones kept. */
  async update(client: ReceiverClient, body: z.infer<typeof StreamRequest>): Promise<Record<string, unknown>> {
    if (!body.stream_id) throw new SsfHttpError(400, 'stream_id is required');
    const s = await this.owned(client, body.stream_id);
    this.checkTransmitterSupplied(client, body, s);
    const next: StreamRecord = {
      ...s,
      ...(body.delivery !== undefined ? { delivery: this.delivery(s.streamId, body.delivery) } : {}),
      ...(body.events_requested !== undefined ? { eventsRequested: body.events_requested } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      updatedAt: new Date(this.now()).toISOString(),
    };
    await this.o.store.updateStream(next);
    return this.representation(next);
  }

  /** PUT: the full set of Receiver-Supplied properties; missing ones are removed. */
  async replace(client: ReceiverClient, body: z.infer<typeof StreamRequest>): Promise<Record<string, unknown>> {
    if (!body.stream_id) throw new SsfHttpError(400, 'stream_id is required');
    const s = await this.owned(client, body.stream_id);
    this.checkTransmitterSupplied(client, body, s);
    const { description: _d, ...rest } = s;
    const next: StreamRecord = {
      ...rest,
      delivery: this.delivery(s.streamId, body.delivery),
      eventsRequested: body.events_requested ?? [],
      ...(body.description ? { description: body.description } : {}),
      updatedAt: new Date(this.now()).toISOString(),
    };
    await this.o.store.updateStream(next);
    return this.representation(next);
  }

  async remove(client: ReceiverClient, streamId: string): Promise<void> {
    await this.owned(client, streamId);
    await this.o.store.deleteStream(streamId);
  }

  async status(client: ReceiverClient, streamId: string): Promise<Record<string, unknown>> {
    const s = await this.owned(client, streamId);
    return { stream_id: s.streamId, status: s.status, ...(s.statusReason ? { reason: s.statusReason } : {}) };
  }

  async setStatus(client: ReceiverClient, body: z.infer<typeof StatusUpdate>): Promise<Record<string, unknown>> {
    const s = await this.owned(client, body.stream_id);
    if (body.subject) throw new SsfHttpError(400, 'per-subject status is not supported; add or remove the subject instead');
    const { statusReason: _r, ...rest } = s;
    const next: StreamRecord = { ...rest, status: body.status, ...(body.reason ? { statusReason: body.reason } : {}), updatedAt: new Date(this.now()).toISOString() };
    await this.o.store.updateStream(next);
    // A disabled stream transmits nothing (SSF 1.0 §8.1.2): what was queued is dropped, not held.
    if (body.status === 'disabled') await this.o.store.dropOutbox(s.streamId);
    if (body.status === 'enabled' && s.status !== 'enabled') {
      await this.enqueue(next, [streamUpdatedDraft(s.streamId, 'enabled', body.reason, Math.floor(this.now() / 1000), randomUUID())]);
    }
    return { stream_id: next.streamId, status: next.status, ...(next.statusReason ? { reason: next.statusReason } : {}) };
  }

  async subject(client: ReceiverClient, body: z.infer<typeof SubjectRequest>, included: boolean): Promise<void> {
    const s = await this.owned(client, body.stream_id);
    await this.o.store.setSubject(s.streamId, subjectKey(body.subject), body.subject, included);
  }

  async verify(client: ReceiverClient, body: z.infer<typeof VerificationRequest>): Promise<void> {
    const s = await this.owned(client, body.stream_id);
    const now = this.now();
    if (s.lastVerificationAt !== undefined && now - s.lastVerificationAt < this.o.minVerificationIntervalSec * 1000) {
      throw new SsfHttpError(429, `verification requested within min_verification_interval (${this.o.minVerificationIntervalSec} s)`);
    }
    if (s.status === 'disabled') throw new SsfHttpError(400, 'the stream is disabled');
    await this.o.store.updateStream({ ...s, lastVerificationAt: now });
    await this.enqueue(s, [verificationDraft(s.streamId, body.state, Math.floor(now / 1000), randomUUID())]);
  }

  /** RFC 8936: acknowledges, then returns what is available (waiting up to pollWaitMs unless returnImmediately). */
  async poll(client: ReceiverClient, streamId: string, body: z.infer<typeof PollRequest>): Promise<{ sets: Record<string, string>; moreAvailable: boolean }> {
    const s = await this.owned(client, streamId);
    if (s.delivery.method !== DeliveryMethod.poll) throw new SsfHttpError(400, 'this stream is delivered by push, not poll', 'invalid_request');
    const acks = [...(body.ack ?? []), ...Object.keys(body.setErrs ?? {})];
    if (acks.length) await this.o.store.acknowledge(streamId, acks);
    const max = body.maxEvents ?? 100;
    if (max === 0) return { sets: {}, moreAvailable: false };
    const deadline = this.now() + (body.returnImmediately === true ? 0 : this.o.pollWaitMs);
    for (;;) {
      const r = await this.o.store.poll(streamId, max, this.now(), this.o.pollAckTimeoutMs);
      if (r.entries.length > 0 || this.now() >= deadline || this.closed) return { sets: Object.fromEntries(r.entries.map((e) => [e.jti, e.set])), moreAvailable: r.moreAvailable };
      await this.waitFor(streamId, Math.min(250, deadline - this.now()));
    }
  }

  private waitFor(streamId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(streamId);
      if (!set) this.waiters.set(streamId, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(ms, 1));
      set.add(done);
    });
  }

  /**
   * Queues SETs for every stream that wants them: not disabled, the event type delivered (stream
   * control events always are), and the subject included (default_subjects ALL: unless removed;
   * NONE: only when added). Paused streams keep them until enabled.
   */
  async fanOut(drafts: readonly SetDraft[]): Promise<number> {
    if (drafts.length === 0) return 0;
    let n = 0;
    for (const s of await this.o.store.activeStreams()) {
      const delivered = new Set(this.delivered(s));
      const added = (await this.o.store.streamSubjects(s.streamId)).flatMap((r) => {
        const p = SubjectIdentifier.safeParse(r.subject);
        return p.success ? [{ subject: p.data, included: r.included }] : [];
      });
      const wanted: SetDraft[] = [];
      for (const d of drafts) {
        if (!CONTROL_EVENTS.has(d.eventType) && !delivered.has(d.eventType)) continue;
        if (!CONTROL_EVENTS.has(d.eventType) && !this.subjectIncluded(added, d.subject)) continue;
        wanted.push(d);
      }
      n += await this.enqueue(s, wanted);
    }
    return n;
  }

  /**
   * SSF 1.0 "Subject Matching": a subject removed from the stream that matches the event's subject
   * excludes it; else one added includes it; else `default_subjects` decides (ALL: included, NONE: not).
   */
  private subjectIncluded(added: readonly { subject: SubjectIdentifier; included: boolean }[], subject: SubjectIdentifier): boolean {
    const matching = added.filter((a) => subjectsMatch(a.subject, subject));
    if (matching.some((a) => !a.included)) return false;
    if (matching.some((a) => a.included)) return true;
    return this.o.defaultSubjects === 'ALL';
  }

  private async enqueue(s: StreamRecord, drafts: readonly SetDraft[]): Promise<number> {
    if (drafts.length === 0) return 0;
    const now = this.now();
    const entries: OutboxEntry[] = [];
    for (const d of drafts) {
      const payload = setPayload(d, { issuer: this.o.issuer(), audience: s.aud, scope: s.streamId });
      entries.push({ streamId: s.streamId, jti: payload.jti, set: await this.o.signer.sign(payload), eventType: d.eventType, createdAt: now, attempts: 0, nextAttemptAt: now });
    }
    const n = await this.o.store.enqueue(entries);
    for (const wake of this.waiters.get(s.streamId) ?? []) wake();
    return n;
  }

  /** Ends the long polls in progress (they answer with what is available): the service is stopping. */
  close(): void {
    this.closed = true;
    for (const set of this.waiters.values()) for (const wake of set) wake();
  }

  /** Status of a stream's outbox (for operators). */
  async outbox(streamId: string): Promise<{ pending: number; failed: number }> {
    return this.o.store.outboxCounts(streamId);
  }
}
