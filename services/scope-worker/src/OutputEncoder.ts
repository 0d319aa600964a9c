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

/**
 * Most bytes the signature headers add to a message: key id, epoch, the 64-byte signature and the
 * Merkle proof (index, count and up to 16 sibling hashes of 32 bytes: requests of up to 65,536 messages).
 */
const SIGNATURE_HEADER_BYTES = 128 + 64 + 16 + 16 * 32;

const byteLength = (v: string | Buffer | null | undefined): number => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

const headerBytes = (h: Readonly<Record<string, string>>): number => {
  let n = 0;
  for (const [k, v] of Object.entries(h)) n += k.length + v.length;
  return n;
};

const sizeOf = (m: Message): number => {
  let n = 64 + byteLength(m.value) + byteLength(m.key);
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) n += k.length + (Array.isArray(v) ? 0 : byteLength(v));
  return n;
};

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
    return [...this.requests(out, deadLetters, audit, Number.POSITIVE_INFINITY, traces)].flat();
  }

  /**
   * The outputs as produce requests of at most `maxBytes` each (signature headers included), each
   * request signed on its own (one Ed25519 signature over its Merkle root), in the order `encode`
   * gives them. Lazy: a request is encoded and signed when it is asked for, so a caller can send one
   * while the next is built. Audit rows are appended as their outputs are encoded. A command of a
   * traced event carries that event's trace headers beside its signature (see `CommandTraces`).
   */
  *requests(out: EngineOutput, deadLetters: readonly DeadLetter[], audit: AuditRow[], maxBytes = MAX_REQUEST_BYTES, traces?: CommandTraces): Generator<TopicMessages[]> {
    let pending: { topic: string; message: Message }[] = [];
    let toSign: ToSign[] = [];
    let bytes = 0;
    const cut = (): TopicMessages[] => {
      const headers = this.signer.signBatch(toSign);
      toSign.forEach((s, i) => (s.message.headers = s.trace ? { ...headers[i], ...s.trace } : headers[i]));
      const request: TopicMessages[] = [];
      for (const { topic, message } of pending) {
        const last = request[request.length - 1];
        if (last?.topic === topic) last.messages.push(message);
        else request.push({ topic, messages: [message] });
      }
      pending = [];
      toSign = [];
      bytes = 0;
      return request;
    };
    for (const item of this.items(out, deadLetters, audit)) {
      const trace = item.command && traces?.headersFor(item.command, item.index);
      const size = sizeOf(item.message) + (item.command ? SIGNATURE_HEADER_BYTES : 0) + (trace ? headerBytes(trace) : 0);
      if (bytes + size > maxBytes && bytes > 0) yield cut();
      pending.push(item);
      if (item.command) toSign.push({ topic: item.topic, key: item.message.key as string, value: item.message.value as Buffer, message: item.message, trace: trace || undefined });
      bytes += size;
    }
    if (pending.length > 0) yield cut();
  }

  /**
   * Each output as an unsigned message, in the order of `encode`, with its audit row appended as it
   * is encoded; a command (signed) names its output list and its index there.
   */
  private *items(out: EngineOutput, deadLetters: readonly DeadLetter[], audit: AuditRow[]): Generator<{ topic: string; message: Message; command?: CommandOutput; index: number }> {
    const t = this.topics;
    const wire = (topic: string, json: string): Buffer => encodeWire(this.id(topic), Buffer.from(json));
    for (let i = 0; i < out.changes.length; i++) {
      const c = out.changes[i]!;
      const json = JSON.stringify(c);
      audit.push({ at: c.at, kind: 'scope.change', identityId: c.identityId, version: c.version, actor: c.cause.actor ?? null, eventId: c.cause.eventId ?? null, payload: json });
      yield { topic: t.scopeChanges, message: { key: c.identityId, value: wire(t.scopeChanges, json) }, command: 'changes', index: i };
    }
    const lastSnapshot = new Map<string, number>();
    out.snapshots.forEach((s, i) => lastSnapshot.set(s.identityId, i));
    for (let i = 0; i < out.snapshots.length; i++) {
      const s = out.snapshots[i]!;
      if (lastSnapshot.get(s.identityId) === i) yield { topic: t.scopeSnapshots, message: { key: s.identityId, value: wire(t.scopeSnapshots, JSON.stringify(s)) }, command: 'snapshots', index: i };
    }
    for (let i = 0; i < out.revocations.length; i++) {
      const r = out.revocations[i]!;
      const json = JSON.stringify(r);
      audit.push({ at: r.at, kind: 'revocation', identityId: r.identityId, version: r.version, actor: r.cause.actor ?? null, eventId: r.cause.eventId ?? null, payload: json });
      yield { topic: t.revocations, message: { key: r.identityId, value: wire(t.revocations, json) }, command: 'revocations', index: i };
    }
    for (const a of out.alerts) {
      const json = JSON.stringify(a);
      audit.push({ at: a.at, kind: 'drift.alert', identityId: a.identityId ?? null, version: null, actor: a.cause.actor ?? null, eventId: a.cause.eventId ?? null, payload: json });
      yield { topic: t.driftAlerts, message: { key: a.identityId ?? null, value: wire(t.driftAlerts, json) }, index: -1 };
    }
    for (const d of deadLetters) yield { topic: t.deadLetters, message: { key: null, value: wire(t.deadLetters, JSON.stringify(d)) }, index: -1 };
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
