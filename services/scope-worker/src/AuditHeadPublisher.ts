import { encodeWire, type AuditHead, type TopicNames } from '@livescope/contracts';
import type { AuditChainHead, Store } from '@livescope/store';
import type { CommandSigner, Logger } from '@livescope/transport';
import type { Message, Producer } from 'kafkajs';
import { Mutex } from './Mutex.js';

export interface AuditHeadPublisherOptions {
  /** Where the chain heads are read (the committed state, never the worker's memory). `Store` is one. */
  readonly store: Pick<Store, 'auditChainHeads'>;
  /** A connected producer (the worker's idempotent one; publications use acks=all). */
  readonly producer: Pick<Producer, 'send'>;
  /** The key that signs commands: heads are signed the same way (headers `livescope-kid`, `livescope-sig`). */
  readonly signer: CommandSigner;
  /** `events`: whose partitions the chains belong to; `auditHeads`: where heads go. Under the worker's prefix. */
  readonly topics: Pick<TopicNames, 'events' | 'auditHeads'>;
  /** Registry id of the `<auditHeads topic>-value` subject (from the worker's `registerAll`). */
  readonly schemaId: number;
  /** This worker's name, carried in every head. */
  readonly workerId: string;
  /** An unchanged head is published again after this long (ms), so a verifier sees the chain is alive. Default 300000 (5 min). */
  readonly maxSilenceMs?: number;
  readonly logger: Logger;
  /** Clock (ms since the epoch). Default `Date.now`. */
  readonly now?: () => number;
}

/** How often `start` checks the heads, by default (ms). */
export const DEFAULT_AUDIT_HEAD_INTERVAL_MS = 10_000;
/** Default `maxSilenceMs`. */
export const DEFAULT_AUDIT_HEAD_MAX_SILENCE_MS = 5 * 60_000;

interface Published {
  readonly seq: number;
  readonly hash: string;
  readonly atMs: number;
}

/**
 * Publishes the signed head (last seq and hash) of each owned partition's audit chain to the audit
 * heads topic, so a tail removed from PostgreSQL later is detectable (`readAuditHeads` +
 * `Store.verifyAudit({ heads })`). A head is published when it changed since this publisher last
 * published it, when it has not been published for `maxSilenceMs`, and on stop.
 *
 * Wiring: `start(() => worker.ownedPartitions, intervalMs)` once the producer is connected and the
 * subjects registered; `await stop()` after the last batch committed and before the producer
 * disconnects. Or call `publish(partitions)` from a timer of your own.
 */
export class AuditHeadPublisher {
  private readonly last = new Map<number, Published>();
  private readonly lock = new Mutex();
  private readonly maxSilenceMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private owned: () => readonly number[] = () => [];
  private busy = false;

  constructor(private readonly o: AuditHeadPublisherOptions) {
    this.maxSilenceMs = o.maxSilenceMs ?? DEFAULT_AUDIT_HEAD_MAX_SILENCE_MS;
    this.now = o.now ?? Date.now;
  }

  /**
   * Reads the heads of `partitions` from PostgreSQL and publishes those that changed or were silent
   * too long; resolves with what it published (after acks=all). Throws the store's or kafkajs'
   * error when either fails; nothing is remembered then, so the next call publishes again.
   */
  publish(partitions: readonly number[]): Promise<AuditHead[]> {
    return this.lock.run(async () => {
      const heads = await this.o.store.auditChainHeads(this.o.topics.events, partitions);
      const nowMs = this.now();
      const due = heads.filter((h) => this.isDue(h, nowMs));
      if (due.length === 0) return [];
      const at = new Date(nowMs).toISOString();
      const published = due.map((h): AuditHead => ({ kind: 'audit.head', topic: this.o.topics.events, partition: h.partition, seq: String(h.seq), hash: h.hash.toString('hex'), nextOffset: h.nextOffset.toString(), at, workerId: this.o.workerId }));
      await this.o.producer.send({ topic: this.o.topics.auditHeads, acks: -1, messages: published.map((h) => this.message(h)) });
      for (const h of published) this.last.set(h.partition, { seq: Number(h.seq), hash: h.hash, atMs: nowMs });
      this.o.logger.debug({ heads: published.map((h) => `${h.partition}:${h.seq}`) }, 'audit heads published');
      return published;
    });
  }

  /** Publishes every `intervalMs` (default 10 s) for the partitions `owned()` returns; failures are logged and retried next time. */
  start(owned: () => readonly number[], intervalMs = DEFAULT_AUDIT_HEAD_INTERVAL_MS): void {
    this.owned = owned;
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.tick(), intervalMs);
  }

  /** Stops the timer, waits for a publication in flight, and publishes the final heads of the partitions still owned. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.publish(this.owned()).catch((err: unknown) => this.o.logger.warn({ err }, 'final audit heads not published'));
  }

  private async tick(): Promise<void> {
    if (this.busy) return; // a slow publication is not queued behind itself
    this.busy = true;
    try {
      await this.publish(this.owned());
    } catch (err) {
      this.o.logger.warn({ err }, 'audit heads not published; retried at the next interval');
    } finally {
      this.busy = false;
    }
  }

  private isDue(h: AuditChainHead, nowMs: number): boolean {
    const prev = this.last.get(h.partition);
    return !prev || prev.seq !== h.seq || prev.hash !== h.hash.toString('hex') || nowMs - prev.atMs >= this.maxSilenceMs;
  }

  /** Confluent wire format, signed over the exact value like a command, keyed `p<partition>`. */
  private message(h: AuditHead): Message {
    const value = encodeWire(this.o.schemaId, Buffer.from(JSON.stringify(h)));
    return { key: `p${h.partition}`, value, headers: this.o.signer.headers(this.o.topics.auditHeads, `p${h.partition}`, value) };
  }
}
