import { randomUUID } from 'node:crypto';
import { AuditHead, decodeWire, parseJsonPayload } from '@livescope/contracts';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { AuditHeadRef } from './ChainVerifier.js';
import { StoreError } from './StoreError.js';

/**
 * Checks a message's signature and returns the key id that signed it, or throws. `CommandVerifier`
 * of `@livescope/transport`, built from the workers' public signing keys, is one.
 */
export interface HeadSignatureVerifier {
  /** Verifies the signature of a message read from `topic` with `key` (it binds both); throws when it does not verify. */
  check(topic: string, key: string | null, value: Buffer, headers: IHeaders | undefined): { kid: string };
}

export interface ReadAuditHeadsOptions {
  readonly kafka: Kafka;
  /** The audit heads topic: `topicNames(prefix).auditHeads`. */
  readonly topic: string;
  /** Heads of chains of this events topic count (`topicNames(prefix).events`); others are only counted. */
  readonly eventsTopic: string;
  /** Trusted worker keys; a head that does not verify is rejected, never used. */
  readonly verifier: HeadSignatureVerifier;
  /** Gives up with a transient StoreError (AUDIT_HEADS_UNAVAILABLE) after this long. Default 60000 ms. */
  readonly timeoutMs?: number;
  /**
   * Distinct heads kept per partition: the most recently published ones, and always the one with the
   * highest seq. Each costs a few hundred bytes. Default 10000 (at one publication every 10 s of a
   * busy partition, the last day). Older ones are counted in `evicted`.
   */
  readonly maxHeadsPerPartition?: number;
  /** Prefix of the private consumer group (deleted afterwards). Default `livescope-audit-heads`. */
  readonly groupIdPrefix?: string;
}

/** A head whose signature verified. */
export interface VerifiedAuditHead extends AuditHeadRef {
  /** Partition of the events topic whose chain it is. */
  readonly partition: number;
  readonly seq: number;
  readonly hash: string;
  readonly nextOffset: string;
  readonly at: string;
  readonly workerId: string;
  /** Key id that signed it. */
  readonly kid: string;
  /** Where it is in the heads topic. */
  readonly kafkaPartition: number;
  readonly offset: string;
  readonly source: string;
}

export interface RejectedAuditHead {
  readonly kafkaPartition: number;
  readonly offset: string;
  readonly key: string | null;
  /** `signature`: unsigned, unknown key or forged; `malformed`: signed, but not an AuditHead. */
  readonly reason: 'signature' | 'malformed';
  readonly detail: string;
}

export interface AuditHeadsRead {
  /** Distinct (seq, hash) heads per partition, sorted by seq: what `Store.verifyAudit({ heads })` takes. */
  readonly heads: ReadonlyMap<number, readonly VerifiedAuditHead[]>;
  /** The head with the highest seq per partition. */
  readonly latest: ReadonlyMap<number, VerifiedAuditHead>;
  /** Messages that were not used: forged, unsigned, signed by an unknown key, or malformed (first 100). */
  readonly rejected: readonly RejectedAuditHead[];
  readonly rejectedCount: number;
  /** Messages read (up to the end offsets captured at the start). */
  readonly messages: number;
  /** Verified heads of another events topic. */
  readonly otherTopic: number;
  /** Distinct heads dropped by `maxHeadsPerPartition`. */
  readonly evicted: number;
}

const MAX_REJECTED_KEPT = 100;
const SEQ = /^[1-9][0-9]{0,15}$|^0$/;
const HASH = /^[0-9a-f]{64}$/;

/**
 * Collects the signed audit chain heads from the heads topic: reads every partition from the
 * beginning up to the end offsets captured when it starts (so it ends even while workers publish),
 * in a private consumer group that commits nothing and is deleted afterwards. A head counts only if
 * its signature verifies; the rest are reported in `rejected`.
 */
export async function readAuditHeads(o: ReadAuditHeadsOptions): Promise<AuditHeadsRead> {
  const collector = new AuditHeadCollector(o.eventsTopic, o.verifier, o.maxHeadsPerPartition ?? 10_000, o.topic);
  const timeoutMs = o.timeoutMs ?? 60_000;
  const admin = o.kafka.admin();
  await admin.connect();
  const groupId = `${o.groupIdPrefix ?? 'livescope-audit-heads'}-${randomUUID()}`;
  let consumerStarted = false;
  try {
    const offsets = await admin.fetchTopicOffsets(o.topic);
    const ends = new Map<number, bigint>();
    for (const p of offsets) if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
    if (ends.size === 0) return collector.result();
    const position = new Map<number, bigint>();
    const reached = (): boolean => [...ends].every(([p, end]) => (position.get(p) ?? -1n) >= end);

    const consumer = o.kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    let settle: (e?: Error) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => (settle = (e) => (e ? reject(e) : resolve())));
    done.catch(() => undefined); // may settle before it is awaited (a timeout during connect)
    consumer.on(consumer.events.CRASH, (e) => settle(new StoreError('AUDIT_HEADS_UNAVAILABLE', `reading ${o.topic}: ${e.payload.error.message}`, { cause: e.payload.error })));
    const timer = setTimeout(() => {
      const behind = [...ends].filter(([p, end]) => (position.get(p) ?? -1n) < end).map(([p, end]) => `partition ${p} at ${position.get(p) ?? 'start'} of ${end}`);
      settle(new StoreError('AUDIT_HEADS_UNAVAILABLE', `timed out after ${timeoutMs} ms reading ${o.topic} to its end offsets: ${behind.join(', ')}`));
    }, timeoutMs);
    try {
      consumerStarted = true;
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: ({ batch }) => {
          const end = ends.get(batch.partition);
          if (end === undefined) return Promise.resolve();
          for (const m of batch.messages) {
            if (BigInt(m.offset) >= end) break;
            collector.take(batch.partition, m);
          }
          const next = BigInt(batch.lastOffset()) + 1n;
          if (next > (position.get(batch.partition) ?? -1n)) position.set(batch.partition, next);
          if (reached()) settle();
          return Promise.resolve();
        },
      });
      await done;
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
    }
    return collector.result();
  } catch (e) {
    if (StoreError.is(e)) throw e;
    throw new StoreError('AUDIT_HEADS_UNAVAILABLE', `reading ${o.topic}: ${(e as Error).message}`, { cause: e });
  } finally {
    if (consumerStarted) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The pure half of `readAuditHeads`: takes messages of the heads topic in any order and keeps the
 * verified, distinct heads per partition.
 */
export class AuditHeadCollector {
  private readonly heads = new Map<number, Map<string, VerifiedAuditHead>>();
  private readonly latest = new Map<number, VerifiedAuditHead>();
  private readonly rejected: RejectedAuditHead[] = [];
  private rejectedCount = 0;
  private messages = 0;
  private otherTopic = 0;
  private evicted = 0;

  constructor(
    private readonly eventsTopic: string,
    private readonly verifier: HeadSignatureVerifier,
    private readonly maxHeadsPerPartition = 10_000,
    /** The heads topic the messages are read from (their signatures bind it). */
    private readonly headsTopic = '',
  ) {}

  take(kafkaPartition: number, m: Pick<KafkaMessage, 'offset' | 'key' | 'value' | 'headers'>): VerifiedAuditHead | RejectedAuditHead | undefined {
    this.messages++;
    const value = m.value ?? Buffer.alloc(0);
    const reject = (reason: RejectedAuditHead['reason'], detail: string): RejectedAuditHead => {
      const r: RejectedAuditHead = { kafkaPartition, offset: m.offset, key: m.key?.toString() ?? null, reason, detail };
      this.rejectedCount++;
      if (this.rejected.length < MAX_REJECTED_KEPT) this.rejected.push(r);
      return r;
    };
    let kid: string;
    try {
      kid = this.verifier.check(this.headsTopic, m.key?.toString() ?? null, value, m.headers).kid;
    } catch (e) {
      return reject('signature', (e as Error).message);
    }
    let head: AuditHead;
    try {
      const parsed = AuditHead.safeParse(parseJsonPayload(decodeWire(value).payload));
      if (!parsed.success) return reject('malformed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      head = parsed.data;
    } catch (e) {
      return reject('malformed', (e as Error).message);
    }
    if (!SEQ.test(head.seq) || !Number.isSafeInteger(Number(head.seq))) return reject('malformed', `seq ${JSON.stringify(head.seq)} is not a decimal integer`);
    const hash = head.hash.toLowerCase();
    if (!HASH.test(hash)) return reject('malformed', 'hash is not 64 hex digits');
    if (head.topic !== this.eventsTopic) {
      this.otherTopic++;
      return undefined;
    }
    const v: VerifiedAuditHead = {
      partition: head.partition,
      seq: Number(head.seq),
      hash,
      nextOffset: head.nextOffset,
      at: head.at,
      workerId: head.workerId,
      kid,
      kafkaPartition,
      offset: m.offset,
      source: `worker ${head.workerId} at ${head.at}, key ${kid}, heads offset ${kafkaPartition}:${m.offset}`,
    };
    const cur = this.latest.get(v.partition);
    if (!cur || v.seq > cur.seq) this.latest.set(v.partition, v);
    let distinct = this.heads.get(v.partition);
    if (!distinct) this.heads.set(v.partition, (distinct = new Map<string, VerifiedAuditHead>()));
    const key = `${v.seq}:${v.hash}`;
    if (!distinct.has(key)) {
      distinct.set(key, v);
      if (distinct.size > this.maxHeadsPerPartition) {
        const top = this.latest.get(v.partition)!;
        for (const [k, h] of distinct) {
          if (h === top) continue;
          distinct.delete(k);
          this.evicted++;
          break;
        }
      }
    }
    return v;
  }

  result(): AuditHeadsRead {
    const heads = new Map<number, VerifiedAuditHead[]>();
    for (const [p, distinct] of this.heads) heads.set(p, [...distinct.values()].sort((a, b) => a.seq - b.seq || a.hash.localeCompare(b.hash)));
    return { heads, latest: new Map(this.latest), rejected: [...this.rejected], rejectedCount: this.rejectedCount, messages: this.messages, otherTopic: this.otherTopic, evicted: this.evicted };
  }
}
