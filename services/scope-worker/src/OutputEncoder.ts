import { encodeWire, valueSubject, type DeadLetter, type DriftAlert, type TopicNames } from '@livescope/contracts';
import type { EngineOutput } from '@livescope/scope-engine';
import type { BatchCommit } from '@livescope/store';
import type { CommandSigner } from '@livescope/transport';
import type { Message, TopicMessages } from 'kafkajs';

type AuditRow = BatchCommit['audit'][number];

/** A message waiting for its signature, with what the signature binds (topic and key). */
interface ToSign {
  readonly topic: string;
  readonly key: string;
  readonly value: Buffer;
  readonly message: Message;
  /** Trace headers (`traceparent`, `tracestate`), added beside the signature's and not covered by it. */
  readonly trace: Readonly<Record<string, string>> | undefined;
}

/** The engine outputs that become signed commands. */
export type CommandOutput = 'changes' | 'snapshots' | 'revocations';

/** The trace context each command carries: that of the event that produced it (see EventSpans). */
export interface CommandTraces {
  headersFor(kind: CommandOutput, index: number): Readonly<Record<string, string>> | undefined;
}

/**
 * Most bytes (keys, values, headers) of outputs sent in one produce request. kafkajs puts all of a
 * request's messages for one partition into one record batch, and the broker refuses a batch over
 * `message.max.bytes` (1 MiB by default) with MESSAGE_TOO_LARGE: a large batch of outputs (a
 * fan-out, a provisioning burst) is therefore sent as several requests, in order.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

const byteLength = (v: string | Buffer | null | undefined): number => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

const sizeOf = (m: Message): number => {
  let n = 64 + byteLength(m.value) + byteLength(m.key);
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) n += k.length + (Array.isArray(v) ? 0 : byteLength(v));
  return n;
};

/** Splits outputs into produce requests of at most `maxBytes` (a larger single message goes alone), keeping order per topic. */
export function chunkTopicMessages(topicMessages: readonly TopicMessages[], maxBytes = MAX_REQUEST_BYTES): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let run: Message[] = [];
    for (const m of messages) {
      const size = sizeOf(m);
      if (bytes + size > maxBytes && bytes > 0) {
        if (run.length) current.push({ topic, messages: run });
        requests.push(current);
        current = [];
        run = [];
        bytes = 0;
      }
      run.push(m);
      bytes += size;
    }
    if (run.length) current.push({ topic, messages: run });
  }
  if (current.length) requests.push(current);
  return requests;
}

/**
 * Turns engine outputs into Kafka messages (wire format, signed where an enforcer consumes them)
 * and audit rows. Each value is serialised once and reused for the audit payload.
 */
export class OutputEncoder {
  constructor(
    private readonly topics: TopicNames,
    private readonly schemaIds: ReadonlyMap<string, number>,
    private readonly signer: CommandSigner,
  ) {}

  private id(topic: string): number {
    const id = this.schemaIds.get(valueSubject(topic));
    if (id === undefined) throw new Error(`no schema id registered for ${topic}`);
    return id;
  }

  /**
   * The batch's outputs as messages. Every command of the batch is covered by ONE Ed25519 signature
   * over the Merkle root of their signing payloads (topic, key, key epoch, value); each message
   * carries the signature and its inclusion proof (see @livescope/transport batchSignature.ts), so
   * an enforcement point verifies the batch once and each message on its own.
   */
  encode(out: EngineOutput, deadLetters: readonly DeadLetter[], audit: AuditRow[], traces?: CommandTraces): TopicMessages[] {
    const toSign: ToSign[] = [];
    const result = this.encodeUnsigned(out, deadLetters, audit, toSign, traces);
    const headers = this.signer.signBatch(toSign);
    toSign.forEach((s, i) => (s.message.headers = s.trace ? { ...headers[i], ...s.trace } : headers[i]));
    return result;
  }

  /** As `encode` (kept async for callers that await it). */
  encodeBatch(out: EngineOutput, deadLetters: readonly DeadLetter[], audit: AuditRow[], traces?: CommandTraces): Promise<TopicMessages[]> {
    return Promise.resolve(this.encode(out, deadLetters, audit, traces));
  }

  private encodeUnsigned(out: EngineOutput, deadLetters: readonly DeadLetter[], audit: AuditRow[], toSign: ToSign[], traces: CommandTraces | undefined): TopicMessages[] {
    const t = this.topics;
    const signed = (topic: string, key: string, json: string, kind: CommandOutput, index: number): Message => {
      const value = encodeWire(this.id(topic), Buffer.from(json));
      const m: Message = { key, value };
      toSign.push({ topic, key, value, message: m, trace: traces?.headersFor(kind, index) });
      return m;
    };
    const changes: Message[] = [];
    const snapshots: Message[] = [];
    const revocations: Message[] = [];
    const alerts: Message[] = [];
    const dead: Message[] = [];
    out.changes.forEach((c, i) => {
      const json = JSON.stringify(c);
      changes.push(signed(t.scopeChanges, c.identityId, json, 'changes', i));
      audit.push({ at: c.at, kind: 'scope.change', identityId: c.identityId, version: c.version, actor: c.cause.actor ?? null, eventId: c.cause.eventId ?? null, payload: json });
    });
    // The snapshot topic is compacted to the latest scope per identity, and every change carries the
    // full scope too: of the snapshots of one identity in one batch, only the last is worth a
    // message (and a signature).
    const lastSnapshot = new Map<string, number>();
    out.snapshots.forEach((s, i) => lastSnapshot.set(s.identityId, i));
    out.snapshots.forEach((s, i) => {
      if (lastSnapshot.get(s.identityId) === i) snapshots.push(signed(t.scopeSnapshots, s.identityId, JSON.stringify(s), 'snapshots', i));
    });
    out.revocations.forEach((r, i) => {
      const json = JSON.stringify(r);
      revocations.push(signed(t.revocations, r.identityId, json, 'revocations', i));
      audit.push({ at: r.at, kind: 'revocation', identityId: r.identityId, version: r.version, actor: r.cause.actor ?? null, eventId: r.cause.eventId ?? null, payload: json });
    });
    for (const a of out.alerts) {
      const json = JSON.stringify(a);
      alerts.push({ key: a.identityId ?? null, value: encodeWire(this.id(t.driftAlerts), Buffer.from(json)) });
      audit.push({ at: a.at, kind: 'drift.alert', identityId: a.identityId ?? null, version: null, actor: a.cause.actor ?? null, eventId: a.cause.eventId ?? null, payload: json });
    }
    for (const d of deadLetters) dead.push({ key: null, value: encodeWire(this.id(t.deadLetters), Buffer.from(JSON.stringify(d))) });
    const result: TopicMessages[] = [];
    if (changes.length) result.push({ topic: t.scopeChanges, messages: changes });
    if (snapshots.length) result.push({ topic: t.scopeSnapshots, messages: snapshots });
    if (revocations.length) result.push({ topic: t.revocations, messages: revocations });
    if (alerts.length) result.push({ topic: t.driftAlerts, messages: alerts });
    if (dead.length) result.push({ topic: t.deadLetters, messages: dead });
    return result;
  }

  /** A drift alert the worker raises itself (not from the engine), in the wire format, unsigned like the engine's. */
  alert(schemaId: number, a: DriftAlert): Message {
    return { key: a.identityId ?? null, value: encodeWire(schemaId, Buffer.from(JSON.stringify(a))) };
  }

  signed(topic: string, key: string, json: string, partition?: number): Message {
    const value = encodeWire(this.id(topic), Buffer.from(json));
    const msg: Message = { key, value, headers: this.signer.headers(topic, key, value) };
    if (partition !== undefined) msg.partition = partition;
    return msg;
  }
}
