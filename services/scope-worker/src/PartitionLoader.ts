import { setImmediate as nextTurn } from 'node:timers/promises';
import { classify, LivescopeError, retry } from '@livescope/errors';
import { decodeIdentity, type ScopeEngine } from '@livescope/scope-engine';
import type { Store } from '@livescope/store';
import type { Logger } from '@livescope/transport';

/** The store queries a partition load uses. */
export type LoaderStore = Pick<Store, 'identitiesOf' | 'identitiesByIds' | 'identitiesWaking'>;

/**
 * How long ahead of the clock the timers of a partial partition are loaded (ms): a tick or a batch
 * later than this asks PostgreSQL for the next stretch (one range query on `wake_at`).
 */
export const TIMER_LOOKAHEAD_MS = 30_000;
/**
 * States decoded between two turns of the event loop in a bulk load: batches of the partitions
 * already processing, timers and heartbeats run between slices (a page of 5,000 states is ~150 ms
 * of decoding on this thread).
 */
const DECODE_SLICE = 500;

/**
 * `partial`: the engine holds the partition record (offset, globals, policies), the identities whose
 * timers are due up to `timersHeldUntil`, and any identity loaded on demand or by the bulk load so
 * far; `complete`: every identity of the partition is held (as an eager load leaves it);
 * `cancelled`: the partition was dropped, nothing more is loaded.
 */
export type LoadPhase = 'partial' | 'complete' | 'cancelled';

export interface PartitionLoaderDeps {
  readonly store: LoaderStore;
  readonly engine: ScopeEngine;
  readonly partition: number;
  readonly logger: Logger;
  /** True once the partition is dropped: nothing more is loaded, the bulk load ends at its next slice. */
  readonly isDropped: () => boolean;
  /** True once the worker stops: the bulk load ends at its next slice (a batch waiting for it is given up and replayed later); small loads still finish. */
  readonly isStopping: () => boolean;
  /** Runs a bulk load when its turn comes (the worker's LoadQueue); urgent: a batch waits for it. Default: at once. */
  readonly schedule?: (load: () => Promise<void>, urgent: boolean) => Promise<void>;
  /** Called once when every identity is held: identities read by the bulk load, seconds it took. */
  readonly onComplete?: (identities: number, seconds: number) => void;
}

/** The partition was dropped (someone else owns it now), or the worker stopped, while its identities were being loaded. */
export class PartitionLoadCancelled extends LivescopeError<'LOAD_CANCELLED'> {
  constructor(partition: number) {
    super('LOAD_CANCELLED', 'reassigned', `partition ${partition} was dropped, or the worker stopped, while its identities were being loaded`, { context: { partition } });
  }
}

/**
 * Brings a partition's identity states from PostgreSQL into its engine while the partition is
 * already processing, so that the result is the one of an engine that held all of them from the
 * start (DESIGN.md: the same commands, versions and states):
 * - before a batch, the identities its identity events read (`identitiesRead`) are fetched in one
 *   query, and the identities whose timers are due by the batch's instant in one range query;
 * - a batch holding a broadcast (orders, policies, org context, leaked secrets: they reach identities
 *   through the whole partition's index) waits for the bulk load, which goes ahead of the worker's
 *   queued background loads;
 * - the bulk load (keyset pages) runs in the background and adds only identities not held yet: an
 *   identity in the engine is never older than its row, since only this partition's owner writes it.
 */
export class PartitionLoader {
  private phase: LoadPhase = 'partial';
  private bulk: Promise<void> | undefined;
  private scheduled: { background?: Promise<void>; urgent?: Promise<void> } = {};
  private timersUntil: number | undefined;
  private readonly log: Logger;

  constructor(private readonly d: PartitionLoaderDeps) {
    this.log = d.logger.child({ partition: d.partition });
  }

  get state(): LoadPhase {
    if (this.phase === 'partial' && this.d.isDropped()) this.phase = 'cancelled';
    return this.phase;
  }

  get complete(): boolean {
    return this.phase === 'complete';
  }

  /** While partial: every identity whose timer is due at or before this instant (epoch ms) is held. Undefined once complete. */
  get timersHeldUntil(): number | undefined {
    return this.phase === 'complete' ? undefined : (this.timersUntil ?? Number.NEGATIVE_INFINITY);
  }

  /**
   * Loads what a batch reads before it is applied: everything when it holds a broadcast, else the
   * identities its events read; and the identities whose timers are due by `nowMs`.
   */
  async prepare(needs: { readonly all: boolean; readonly ids: Iterable<string> }, nowMs: number): Promise<void> {
    if (this.complete) return;
    if (needs.all) return this.loadAll(true);
    const ids = [...needs.ids].filter((id) => this.d.engine.identity(id) === undefined);
    if (ids.length > 0) this.add(await this.query('identities by id', () => this.d.store.identitiesByIds(this.d.partition, ids)));
    await this.loadTimers(nowMs);
  }

  /** Makes sure every identity whose timer is due by `nowMs` is held (one range query on `wake_at` per stretch of TIMER_LOOKAHEAD_MS). */
  async loadTimers(nowMs: number): Promise<void> {
    if (this.complete) return;
    this.throwIfCancelled();
    if (this.timersUntil !== undefined && nowMs <= this.timersUntil) return;
    const until = nowMs + TIMER_LOOKAHEAD_MS;
    const rows = await this.query('identities by wake-up', () => this.d.store.identitiesWaking(this.d.partition, this.timersUntil, until));
    this.add(rows);
    this.timersUntil = until;
  }

  /**
   * The bulk load, when its turn comes (`urgent`: before the queued background loads): resolves when
   * every identity is held, rejects with PartitionLoadCancelled when the partition was dropped (or
   * the worker stopped) first. Idempotent: one read, however many callers.
   */
  async loadAll(urgent: boolean): Promise<void> {
    if (this.complete) return;
    this.throwIfCancelled();
    const kind = urgent ? 'urgent' : 'background';
    const schedule = this.d.schedule ?? ((load: () => Promise<void>) => load());
    this.scheduled[kind] ??= schedule(() => this.read(), urgent).finally(() => delete this.scheduled[kind]);
    await this.scheduled[kind];
    if (!this.complete) throw new PartitionLoadCancelled(this.d.partition);
  }

  /** The one bulk read: started by whichever scheduled load runs first; the others wait for it. */
  private read(): Promise<void> {
    this.bulk ??= this.readAll().finally(() => {
      // A read that did not complete (stopped, failed) is not reused: the next load starts again.
      if (!this.complete) this.bulk = undefined;
    });
    return this.bulk;
  }

  private async readAll(): Promise<void> {
    const started = performance.now();
    let read = 0;
    await this.guard(() =>
      retry(
        async () => {
          read = 0;
          if (this.ending()) return;
          // A retry starts over; identities already held are skipped before they are decoded.
          for await (const page of this.d.store.identitiesOf(this.d.partition)) {
            for (let i = 0; i < page.length; i += DECODE_SLICE) {
              if (this.ending()) return;
              this.add(page.slice(i, i + DECODE_SLICE));
              await nextTurn();
            }
            read += page.length;
          }
        },
        {
          shouldStop: () => this.ending(),
          onRetry: (err, attempt, delayMs) => this.log.warn({ err, attempt, delayMs }, 'loading the partition failed; retrying'),
        },
      ),
    );
    if (this.ending()) {
      this.log.info({ identities: read }, 'partition load cancelled (partition dropped or worker stopping)');
      return;
    }
    this.phase = 'complete';
    this.d.onComplete?.(read, (performance.now() - started) / 1000);
  }

  /** Decodes and adds the rows of identities the engine does not hold. */
  private add(rows: readonly { identityId: string; state: string }[]): void {
    const engine = this.d.engine;
    const missing = rows.filter((r) => engine.identity(r.identityId) === undefined);
    if (missing.length > 0) engine.loadMissing(missing.map((r) => decodeIdentity(r.state, engine.permInterner)));
  }

  private ending(): boolean {
    return this.state === 'cancelled' || this.d.isStopping();
  }

  private throwIfCancelled(): void {
    if (this.state === 'cancelled') throw new PartitionLoadCancelled(this.d.partition);
  }

  /** One query a batch or a tick waits for: PostgreSQL unavailable is retried in place (order kept), as a commit is. */
  private query<T>(what: string, step: () => Promise<T>): Promise<T> {
    return this.guard(() =>
      retry(step, {
        shouldStop: () => this.state === 'cancelled' || this.d.isStopping(),
        onRetry: (err, attempt, delayMs) => this.log.warn({ err, attempt, delayMs, what }, 'loading identities failed; retrying'),
      }),
    );
  }

  /**
   * A load that fails leaves the batch unapplied, whatever the cause: it is never the batch's fault,
   * so a failure that would count as poison (dead-letter the input) is retried instead, as a failed
   * eager load was.
   */
  private async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (e) {
      if (classify(e) !== 'poison') throw e;
      throw new LivescopeError('PARTITION_LOAD', 'transient', `loading partition ${this.d.partition} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e, context: { partition: this.d.partition } });
    }
  }
}
