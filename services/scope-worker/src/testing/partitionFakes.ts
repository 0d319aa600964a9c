import { subjectSpecsFor, topicNames } from '@livescope/contracts';
import { permitAllPolicy, ScopeEngine } from '@livescope/scope-engine';
import { GENESIS_HASH, StoreError, type BatchCommit, type ChainTail, type Store } from '@livescope/store';
import { CommandSigner, createLogger, generateSigningKeyPair, parsePrivateKey, type ProducerKeyring, type SchemaRegistryClient } from '@livescope/transport';
import type { Producer, TopicMessages } from 'kafkajs';
import type { LoadQueue } from '../LoadQueue.js';
import { OutputEncoder } from '../OutputEncoder.js';
import type { PartitionContext, PartitionLoadMode } from '../PartitionRunner.js';
import { WorkerMetrics } from '../WorkerMetrics.js';

/**
 * The process boundaries of a PartitionRunner faked for unit tests (PostgreSQL and the Kafka
 * producer); everything else in those tests is real.
 */

export const fakeTopics = topicNames('t.');

/** A stored identity row as the loader reads it. */
export interface FakeRow {
  readonly identityId: string;
  readonly state: string;
  readonly wakeAt: number | null;
}

/** The schema id the fake registry knows for the events subject. */
export const FAKE_SCHEMA_ID = 7;
export const fakeRegistry = { isKnown: (_s: string, id: number) => id === FAKE_SCHEMA_ID, refreshUnknown: () => Promise.resolve(false) } as unknown as SchemaRegistryClient;

/** PostgreSQL for one partition: fenced commits, queued failures, stored identity rows whose page reads wait while `closeGate()` holds them. */
export class FakeStore {
  commits: BatchCommit[] = [];
  nextOffset = -1n;
  failures: Error[] = [];
  /** Failures of the next on-demand loads (`identitiesByIds`), in order. */
  loadFailures: Error[] = [];
  pagesRequested = 0;
  byIdQueries: string[][] = [];
  private gate: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  constructor(
    readonly rows: readonly FakeRow[] = [],
    private readonly pageRows = 5000,
  ) {}

  closeGate(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  openGate(): void {
    this.release();
  }

  loadPartition(): Promise<{ nextOffset: bigint; globals: null; policies: null; auditTail: ChainTail }> {
    return Promise.resolve({ nextOffset: this.nextOffset, globals: null, policies: null, auditTail: { seq: 0, hash: GENESIS_HASH } });
  }
  async *identitiesOf(): AsyncGenerator<{ identityId: string; state: string }[]> {
    const sorted = [...this.rows].sort((a, b) => (a.identityId < b.identityId ? -1 : 1));
    for (let i = 0; i < sorted.length; i += this.pageRows) {
      this.pagesRequested++;
      await this.gate;
      yield sorted.slice(i, i + this.pageRows).map((r) => ({ identityId: r.identityId, state: r.state }));
    }
  }
  identitiesByIds(_partition: number, ids: readonly string[]): Promise<{ identityId: string; state: string }[]> {
    this.byIdQueries.push([...ids]);
    const f = this.loadFailures.shift();
    if (f !== undefined) return Promise.reject(f);
    return Promise.resolve(this.rows.filter((r) => ids.includes(r.identityId)));
  }
  identitiesWaking(_partition: number, after: number | undefined, until: number): Promise<{ identityId: string; state: string }[]> {
    return Promise.resolve(this.rows.filter((r) => r.wakeAt !== null && (after === undefined || r.wakeAt > after) && r.wakeAt <= until));
  }
  commitBatch(b: BatchCommit, tail: ChainTail): Promise<ChainTail> {
    const f = this.failures.shift();
    if (f !== undefined) return Promise.reject(f);
    if (b.expectedOffset !== this.nextOffset) return Promise.reject(new StoreError('FENCED', `partition moved on to ${this.nextOffset}`));
    this.commits.push(b);
    this.nextOffset = b.nextOffset;
    return Promise.resolve({ seq: tail.seq + b.audit.length, hash: tail.hash });
  }
}

/** The producer: records every request, fails with the queued failures first. */
export class FakeProducer {
  requests: TopicMessages[][] = [];
  failures: Error[] = [];
  sendBatch({ topicMessages }: { topicMessages: TopicMessages[] }): Promise<unknown> {
    const f = this.failures.shift();
    if (f !== undefined) return Promise.reject(f);
    this.requests.push(topicMessages);
    return Promise.resolve([]);
  }
  /** Decoded values sent to `topic`, in order. */
  sent<T>(topic: string): T[] {
    return this.requests.flatMap((r) => r.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => JSON.parse((m.value as Buffer).subarray(5).toString()) as T)));
  }
  /** Every output as [key, decoded value], by topic (signature headers left out: batch proofs depend on request boundaries). */
  outputs(): Record<string, unknown[]> {
    const by: Record<string, unknown[]> = {};
    for (const r of this.requests) for (const t of r) (by[t.topic] ??= []).push(...t.messages.map((m): unknown => [m.key?.toString(), JSON.parse((m.value as Buffer).subarray(5).toString())]));
    return by;
  }
}

const schemaIds = new Map(subjectSpecsFor('t.').map((s, i) => [s.subject, s.topic === fakeTopics.events ? FAKE_SCHEMA_ID : 100 + i]));

/** A partition context over the fakes: worker `w1`, a permit-all engine, a fresh signing key. */
export function fakeContext(d: { store: FakeStore; producer: FakeProducer; keyring: ProducerKeyring; metrics?: WorkerMetrics; partitionLoad?: PartitionLoadMode; isShuttingDown?: () => boolean; loadQueue?: LoadQueue }): PartitionContext {
  const signer = new CommandSigner(parsePrivateKey('w1', generateSigningKeyPair('w1').privateKey));
  return {
    topic: fakeTopics.events,
    eventsSubject: `${fakeTopics.events}-value`,
    workerId: 'w1',
    maxMessageBytes: 1024 * 1024,
    store: d.store as unknown as Store,
    producer: d.producer as unknown as Producer,
    registry: fakeRegistry,
    encoder: new OutputEncoder(fakeTopics, schemaIds, signer),
    metrics: d.metrics ?? new WorkerMetrics(),
    logger: createLogger('test', 'silent'),
    keyring: d.keyring,
    createEngine: () => new ScopeEngine({ compilePolicies: () => permitAllPolicy, verifyReleaseWindow: () => true }),
    isShuttingDown: d.isShuttingDown ?? (() => false),
    ...(d.partitionLoad ? { partitionLoad: d.partitionLoad } : {}),
    ...(d.loadQueue ? { loadQueue: d.loadQueue } : {}),
  };
}
