import { broadcastEvent, encodeWireJson, identityEvent, type DeadLetter, type LivescopeEvent, type LivescopeEventInput, type ScopeChange } from '@livescope/contracts';
import { emptyOutput, encodeIdentity, permitAllPolicy, ScopeEngine, type ProducerVerdict } from '@livescope/scope-engine';
import { StoreError } from '@livescope/store';
import { BROADCAST_KEY, generateSigningKeyPair, ProducerKeyring, ProducerSigner } from '@livescope/transport';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { LoadQueue } from './LoadQueue.js';
import { TIMER_LOOKAHEAD_MS } from './PartitionLoader.js';
import { PartitionRunner, type PartitionLoadMode } from './PartitionRunner.js';
import { FAKE_SCHEMA_ID as SCHEMA, fakeContext, FakeProducer, FakeStore, fakeTopics, type FakeRow as Row } from './testing/partitionFakes.js';

/**
 * Loading a partition while it processes (issue 15, restart): a partition in `background` mode
 * must produce exactly what the same partition produces after an `eager` load. PostgreSQL and the
 * producer are the faked process boundaries (the rows are real engine states, encoded); the engine,
 * codecs, signatures and the loader are the real ones.
 */
const topics = fakeTopics;
const producerKey = generateSigningKeyPair('provisioning');
const producerSigner = ProducerSigner.fromConfig(producerKey.kid, producerKey.privateKey);
const keyring = ProducerKeyring.fromJson(JSON.stringify({ provisioning: { publicKey: producerKey.publicKey, eventTypes: ['*'] } }));
const TRUSTED: ProducerVerdict = { kind: 'trusted', keyId: 'provisioning' };
/** The instant the stored states were written; the restart happens at the wall clock (now). */
const T = Date.now() - 60_000;
const MIN = 60_000;
const IDENTITIES = 40;
const PAGE = 7;

/** The partition as a worker left it in PostgreSQL: IDENTITIES service accounts with a write grant, one of them with a just-in-time grant expiring 10 minutes from now. */
function storedRows(): Row[] {
  const engine = new ScopeEngine({ compilePolicies: () => permitAllPolicy, verifyReleaseWindow: () => true });
  const out = emptyOutput();
  const apply = (e: LivescopeEvent): void => void engine.handle(e, { timestampMs: T, producer: TRUSTED }, out);
  for (let i = 0; i < IDENTITIES; i++) {
    const id = `sa-${i}`;
    apply(identityEvent('identity.created', id, { kind: 'service-account', name: id, namespace: i % 2 === 0 ? 'pay' : 'ci', owner: 'team' }, { id: `c-${i}`, time: T }));
    apply(identityEvent('entitlement.granted', id, { grantId: `g-${i}`, role: 'writer', permissions: [{ action: 'db:write', resource: `db/${i}`, access: 'write' }] }, { id: `g-${i}`, time: T }));
  }
  apply(identityEvent('jit.granted', 'sa-7', { grantId: 'jit-7', expiresAt: new Date(Date.now() + 10 * MIN).toISOString(), permissions: [{ action: 'vault:read', resource: 'secret/db', access: 'read' }] }, { id: 'j-7', time: T }));
  return engine.drainDirty().identities.map((s) => ({ identityId: s.id, state: encodeIdentity(s), wakeAt: s.wakeAt }));
}

async function open(mode: PartitionLoadMode, rows: Row[], prepare?: (store: FakeStore) => void, isShuttingDown?: () => boolean, loadQueue?: LoadQueue): Promise<{ runner: PartitionRunner; store: FakeStore; producer: FakeProducer }> {
  const store = new FakeStore(rows, PAGE);
  prepare?.(store);
  const producer = new FakeProducer();
  const ctx = fakeContext({ store, producer, keyring, partitionLoad: mode, ...(isShuttingDown ? { isShuttingDown } : {}), ...(loadQueue ? { loadQueue } : {}) });
  return { runner: await PartitionRunner.load(ctx, 0, 0n), store, producer };
}

/** Messages at offsets from `first`, signed by the trusted producer, appended at `at`. */
function messages(events: readonly LivescopeEventInput[], at: number, first = 0): KafkaMessage[] {
  return events.map((e, i) => {
    const key = 'subject' in e && typeof e.subject === 'string' ? e.subject : BROADCAST_KEY;
    const value = encodeWireJson(SCHEMA, e);
    return { key: Buffer.from(key), value, offset: String(first + i), timestamp: String(at), attributes: 0, size: value.length, headers: producerSigner.headers(topics.events, key, value) } as unknown as KafkaMessage;
  });
}

const now = (): number => Date.now();
const risk = (id: string, n: number): LivescopeEventInput => identityEvent('telemetry.risk-scored', id, { score: 10 + n }, { id: `r-${id}-${n}`, time: now() });
const revoke = (i: number): LivescopeEventInput => identityEvent('entitlement.revoked', `sa-${i}`, { grantId: `g-${i}` }, { id: `rv-${i}`, time: now() });
const readOnly = (): LivescopeEventInput => broadcastEvent('order.issued', { orderId: 'o-1', kind: 'read-only', target: { all: true }, reason: 'incident', actor: 'soc' }, { id: 'o-1', time: now() });

/** Runs the same scenario on an eager and on a background partition over the same rows; `gated`: the background partition's page reads wait for `store.openGate()`. */
async function both(gated: boolean, scenario: (r: { runner: PartitionRunner; store: FakeStore }) => Promise<void>): Promise<Awaited<ReturnType<typeof open>>[]> {
  const rows = storedRows();
  const results = [];
  for (const mode of ['eager', 'background'] as const) {
    const r = await open(mode, rows, (s) => (gated && mode === 'background' ? s.closeGate() : undefined));
    await scenario(r);
    results.push(r);
  }
  return results;
}

function waitUntil(what: string, cond: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let turns = 0;
    const check = (): void => {
      if (cond()) return resolve();
      if (++turns > 10_000) return reject(new Error(`never happened: ${what}`));
      setImmediate(check);
    };
    check();
  });
}

describe('PartitionLoader: a partition processes while its identities load', () => {
  it('applies identity events for identities not loaded yet against their stored state, as an eager load does', async () => {
    const at = now();
    const batch = messages([revoke(3), risk('sa-4', 1), identityEvent('identity.created', 'sa-new', { kind: 'workload', name: 'n', namespace: 'ci', owner: 'team' }, { id: 'c-new', time: at })], at);
    const [eager, background] = await both(
      false,
      async ({ runner }) => {
        await runner.process(batch, at);
      },
    );
    // Only what the batch read was loaded: the partition never waited for the other identities.
    expect(background!.runner.loader.complete).toBe(false);
    expect(background!.store.pagesRequested).toBe(0);
    expect(background!.runner.engine.size).toBeLessThan(IDENTITIES);
    expect(background!.store.byIdQueries).toEqual([['sa-3', 'sa-4', 'sa-new']]);
    // The narrowing continues the stored version of sa-3, exactly as after the eager load.
    const changes = background!.producer.sent<ScopeChange>(topics.scopeChanges);
    expect(changes.find((c) => c.identityId === 'sa-3')).toMatchObject({ previousVersion: 1, version: 2, direction: 'narrowing' });
    expect(background!.producer.outputs()).toEqual(eager!.producer.outputs());
    expect(background!.store.commits.map((c) => c.identities)).toEqual(eager!.store.commits.map((c) => c.identities));
  });

  it('refuses an approval given by a stored identity that is not loaded yet, as an eager load does', async () => {
    const at = now();
    const approval = identityEvent(
      'session.approval-granted',
      'sa-1',
      { approvalId: 'a-1', escalation: 'secret-retrieval', approvedBy: 'someone', approver: { kind: 'human', subject: 'sa-2', issuer: 'https://idp', evidence: 'oidc-id-token' }, expiresAt: new Date(at + 10 * MIN).toISOString() },
      { id: 'ap-1', time: at },
    );
    const [eager, background] = await both(
      false,
      async ({ runner }) => {
        await runner.process(messages([approval], at), at);
      },
    );
    expect(eager!.producer.sent<DeadLetter>(topics.deadLetters).map((d) => d.reason)).toEqual(['invalid-approval']);
    expect(background!.runner.loader.complete).toBe(false);
    expect(background!.producer.outputs()).toEqual(eager!.producer.outputs());
  });

  it('holds a broadcast until every identity is loaded, then it reaches every identity', async () => {
    const at = now();
    const batch = messages([risk('sa-5', 1), readOnly()], at);
    const [eager, background] = await both(
      true,
      async ({ runner, store }) => {
        const done = runner.process(batch, at);
        if (runner.loader.complete) return void (await done);
        // The batch started the bulk load itself (nobody called loadInBackground) and waits for it.
        await waitUntil('the bulk load to be started by the batch', () => store.pagesRequested > 0);
        expect(store.commits).toEqual([]);
        store.openGate();
        await done;
        expect(runner.loader.complete).toBe(true);
      },
    );
    const narrowed = background!.producer.sent<ScopeChange>(topics.scopeChanges).filter((c) => c.direction === 'narrowing');
    expect(narrowed).toHaveLength(IDENTITIES);
    expect(background!.producer.outputs()).toEqual(eager!.producer.outputs());
    expect(background!.store.commits.map((c) => c.identities)).toEqual(eager!.store.commits.map((c) => c.identities));
  });

  it('fires a timer due while the partition is still loading, at its own instant', async () => {
    const later = now() + 11 * MIN;
    const [eager, background] = await both(
      true,
      async ({ runner }) => {
        // The worker's timer loop asks the runner, not the engine: a timer may be due among identities not loaded yet.
        expect(runner.nextWakeAt()).toBeLessThanOrEqual(later);
        await runner.tick(later);
      },
    );
    expect(background!.runner.loader.complete).toBe(false);
    expect(background!.store.pagesRequested).toBe(0);
    const expiry = background!.producer.sent<ScopeChange>(topics.scopeChanges);
    expect(expiry).toEqual([expect.objectContaining({ identityId: 'sa-7', direction: 'narrowing', cause: expect.objectContaining({ timer: true }) })]);
    expect(background!.producer.outputs()).toEqual(eager!.producer.outputs());
  });

  it('loads timers ahead of the clock in stretches, so the timer loop wakes when the next stretch is due', async () => {
    const { runner } = await open('background', storedRows(), (s) => s.closeGate());
    const held = runner.loader.timersHeldUntil!;
    expect(held).toBeGreaterThanOrEqual(now() + TIMER_LOOKAHEAD_MS - 60_000);
    expect(runner.nextWakeAt()).toBe(held + 1);
    await runner.tick(held + 1);
    expect(runner.loader.timersHeldUntil).toBe(held + 1 + TIMER_LOOKAHEAD_MS);
  });

  it('cancels the background load when the partition is dropped, and a batch waiting for it gives the partition up', async () => {
    const { runner, store } = await open('background', storedRows(), (s) => s.closeGate());
    const background = runner.loadInBackground();
    await waitUntil('the first page to be read', () => store.pagesRequested > 0);
    const at = now();
    const waiting = runner.process(messages([readOnly()], at), at);
    const held = runner.engine.size;
    runner.dropped = true;
    store.openGate();
    await expect(background).resolves.toBeUndefined();
    await expect(waiting).rejects.toMatchObject({ code: 'LOAD_CANCELLED', classification: 'reassigned' });
    expect(runner.loader.state).toBe('cancelled');
    // Nothing was added after the drop, and the generator was closed after the page in hand.
    expect(runner.engine.size).toBe(held);
    expect(store.pagesRequested).toBe(1);
    expect(store.commits).toEqual([]);
    await expect(runner.loader.loadTimers(at + 60 * MIN)).rejects.toMatchObject({ code: 'LOAD_CANCELLED' });
  });

  it('ends the bulk load when the worker stops: a batch waiting for it is given up (replayed later), timers still load', async () => {
    let stopping = false;
    const { runner, store, producer } = await open('background', storedRows(), (s) => s.closeGate(), () => stopping);
    const background = runner.loadInBackground();
    await waitUntil('the first page to be read', () => store.pagesRequested > 0);
    const at = now();
    const waiting = runner.process(messages([readOnly()], at), at);
    stopping = true;
    store.openGate();
    await expect(background).resolves.toBeUndefined();
    await expect(waiting).rejects.toMatchObject({ code: 'LOAD_CANCELLED' });
    expect(store.commits).toEqual([]);
    // The small loads a batch or a tick needs still run while stopping (the batch in flight finishes its commit).
    await runner.tick(at + 11 * MIN);
    expect(producer.sent<ScopeChange>(topics.scopeChanges).map((c) => c.identityId)).toEqual(['sa-7']);
  });

  it('retries an on-demand load in place while PostgreSQL is unavailable, then applies the batch', async () => {
    const at = now();
    const { runner, store, producer } = await open('background', storedRows());
    store.loadFailures.push(new StoreError('PG_UNAVAILABLE', 'connection refused'));
    await runner.process(messages([revoke(3)], at), at);
    expect(store.byIdQueries).toEqual([['sa-3'], ['sa-3']]);
    expect(producer.sent<ScopeChange>(topics.scopeChanges)).toEqual([expect.objectContaining({ identityId: 'sa-3', previousVersion: 1, version: 2 })]);
  });

  it('moves the bulk load a broadcast waits for ahead of the queued background loads of other partitions', async () => {
    const queue = new LoadQueue(1);
    const rows = storedRows();
    const a = await open('background', rows, (s) => s.closeGate(), undefined, queue);
    const b = await open('background', rows, undefined, undefined, queue);
    const c = await open('background', rows, undefined, undefined, queue);
    const order: string[] = [];
    for (const [name, r] of [['a', a], ['b', b], ['c', c]] as const) {
      const pages = r.store.identitiesOf.bind(r.store);
      r.store.identitiesOf = async function* (): AsyncGenerator<{ identityId: string; state: string }[]> {
        order.push(name);
        yield* pages();
      };
    }
    const loads = [a.runner.loadInBackground(), b.runner.loadInBackground()];
    await waitUntil('the first load to hold the queue', () => a.store.pagesRequested > 0);
    const at = now();
    const waiting = c.runner.process(messages([readOnly()], at), at);
    await waitUntil('the urgent load to be queued', () => queue.queued === 2);
    a.store.openGate();
    await waiting;
    expect(c.producer.sent<ScopeChange>(topics.scopeChanges)).toHaveLength(IDENTITIES);
    await Promise.all(loads);
    // The broadcast's partition was read right after the load in progress, before b's queued background load.
    expect(order).toEqual(['a', 'c', 'b']);
    expect([a, b, c].map((r) => r.runner.loader.complete)).toEqual([true, true, true]);
  });

  it('completes the background load without reading twice what batches loaded on demand', async () => {
    const at = now();
    const rows = storedRows();
    const { runner, producer } = await open('background', rows);
    await runner.process(messages([revoke(3)], at), at);
    await runner.loadInBackground();
    expect(runner.loader.complete).toBe(true);
    expect(runner.engine.size).toBe(IDENTITIES);
    // sa-3 keeps the state its event gave it (version 2), not the older row of the bulk load.
    expect(runner.engine.identity('sa-3')!.version).toBe(2);
    expect(runner.nextWakeAt()).toBe(runner.engine.nextWakeAt());
    expect(producer.sent<ScopeChange>(topics.scopeChanges)).toHaveLength(1);
  });
});
