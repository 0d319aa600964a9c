import type { DriftAlert } from '@livescope/contracts';
import { describe, expect, it, vi } from 'vitest';
import { AckBuffer } from './AckBuffer.js';
import { CommandProcessor, type Outcome, type PartitionStart } from './CommandProcessor.js';
import { EnforcerState } from './EnforcerState.js';
import { change, heartbeat, message, revocation, snapshot, T0, testKeys, topics, type TestKeys } from './testing/builders.js';

const keys = testKeys('k1');
const opts = { requireSession: true, sensitive: (a: string) => a === 'vault:read', maxStalenessMs: 5000 };

function setup(o: { keys?: TestKeys[]; minKeyEpoch?: number; starts?: PartitionStart[]; behind?: [string, number][] } = {}) {
  const state = new EnforcerState(() => 0);
  for (const [id, v] of o.behind ?? []) state.behind.set(id, v);
  const acks = new AckBuffer();
  const onReady = vi.fn();
  const p = new CommandProcessor({ enforcerId: 'gw-1', topics, trustedKeys: (o.keys ?? [keys]).map((k) => k.trusted), ...(o.minKeyEpoch === undefined ? {} : { minKeyEpoch: o.minKeyEpoch }), state, acks, onReady });
  p.begin(o.starts ?? [], T0);
  return { p, state, acks, onReady };
}

const rejected = (o: Outcome): Extract<Outcome, { type: 'rejected' }> => {
  if (o.type !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(o)}`);
  return o;
};

describe('signatures', () => {
  it('rejects unsigned, unknown-key and forged commands, and genuine signatures moved to another topic or key, each with an alert', () => {
    const { p, state, acks } = setup();
    const stranger = testKeys('someone-else');
    const impostor = testKeys('k1'); // the trusted key id, another key
    const widening = snapshot('sa-1', 7, { permissions: [{ action: 'db:write', resource: 'db/a', access: 'write', validUntil: null, grants: ['g1'] }] });
    const outcomes = [
      p.handle(message(topics.scopeSnapshots, 'sa-1', widening, 0, { headers: {} }), T0),
      p.handle(message(topics.scopeSnapshots, 'sa-1', widening, 1, { keys: stranger }), T0),
      p.handle(message(topics.scopeSnapshots, 'sa-1', widening, 2, { keys: impostor }), T0),
      // Genuinely signed, for the changes topic: replayed as a snapshot.
      p.handle(message(topics.scopeSnapshots, 'sa-1', widening, 3, { keys, signTopic: topics.scopeChanges }), T0),
      // Genuinely signed for sa-2's key, re-keyed to sa-1 (the value says sa-1: the signature covers the key).
      p.handle(message(topics.scopeSnapshots, 'sa-1', widening, 4, { keys, signKey: 'sa-2' }), T0),
    ].map(rejected);
    expect(outcomes.map((o) => o.code)).toEqual(['SIGNATURE_MISSING', 'UNKNOWN_KEY_ID', 'SIGNATURE_INVALID', 'SIGNATURE_INVALID', 'SIGNATURE_INVALID']);
    expect(outcomes[0]!.reason).toMatch(/not signed/);
    expect(outcomes[1]!.reason).toMatch(/unknown key id someone-else/);
    expect(outcomes[3]!.reason).toMatch(/does not match the command on t\.livescope\.scope\.snapshots\.v1 for key sa-1/);
    expect(state.identities.has('sa-1')).toBe(false);
    expect(acks.rejected).toBe(5);
    const alerts = p.drainAlerts();
    expect(alerts).toHaveLength(5);
    expect(alerts[0]).toMatchObject({ type: 'rejected-command', severity: 'critical', identityId: 'sa-1', enforcerId: 'gw-1', alertId: `gw-1/${topics.scopeSnapshots}/0/0/rejected`, details: { topic: topics.scopeSnapshots, partition: 0, offset: '0', code: 'SIGNATURE_MISSING' } });
    // The genuine command, read where it was signed for, is applied.
    expect(p.handle(message(topics.scopeSnapshots, 'sa-1', widening, 5, { keys }), T0)).toMatchObject({ type: 'applied', version: 7 });
  });

  it('refuses a command signed at a key epoch below the minimum, accepts the rotated key', () => {
    const old = testKeys('k-old', 1);
    const rotated = testKeys('k-new', 2);
    const { p } = setup({ keys: [old, rotated], minKeyEpoch: 2 });
    expect(rejected(p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 1), 0, { keys: old }), T0)).code).toBe('KEY_EPOCH_REFUSED');
    expect(p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 1), 1, { keys: rotated }), T0)).toMatchObject({ type: 'applied' });
    // Even a duplicate (whose Ed25519 signature is not verified) must come from an accepted epoch.
    expect(rejected(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 1), 0, { keys: old }), T0)).code).toBe('KEY_EPOCH_REFUSED');
  });

  it('a duplicate changes nothing but must be signed: unsigned or unknown-key duplicates are alerted', () => {
    const { p } = setup();
    expect(p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 3), 0, { keys }), T0)).toMatchObject({ type: 'applied' });
    expect(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 3), 0, { keys }), T0)).toMatchObject({ type: 'duplicate', held: 3 });
    expect(rejected(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 3), 1, { headers: {} }), T0)).code).toBe('SIGNATURE_MISSING');
    expect(rejected(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 3), 2, { keys: testKeys('k9') }), T0)).code).toBe('UNKNOWN_KEY_ID');
    expect(p.drainAlerts()).toHaveLength(2);
  });

  it('a genuine command of the version held, moved to the other topic or to another identity, is rejected, not taken for a duplicate', () => {
    const { p } = setup();
    const latest = message(topics.scopeChanges, 'sa-1', change('sa-1', 3), 0, { keys });
    expect(p.handle(latest, T0).type).toBe('applied');
    p.handle(message(topics.scopeChanges, 'sa-2', change('sa-2', 3), 1, { keys }), T0);
    // The same bytes and headers on the snapshot topic.
    expect(rejected(p.handle({ ...latest, topic: topics.scopeSnapshots }, T0)).code).toBe('SIGNATURE_INVALID');
    // sa-1's change of version 3, keyed as sa-2 (which also holds version 3).
    expect(rejected(p.handle({ ...latest, key: Buffer.from('sa-2'), offset: '2' }, T0)).code).toBe('SIGNATURE_INVALID');
  });

  it('revocations and heartbeats are verified with their topic and key too', () => {
    const { p, state } = setup();
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 1), 0, { keys }), T0);
    // A revocation of sa-1's session, re-keyed to sa-2, or replayed as a change.
    expect(rejected(p.handle(message(topics.revocations, 'sa-2', revocation('sa-1', 1, 's1'), 0, { keys, signKey: 'sa-1' }), T0)).code).toBe('SIGNATURE_INVALID');
    expect(rejected(p.handle(message(topics.revocations, 'sa-1', revocation('sa-1', 1, 's1'), 1, { keys, signTopic: topics.scopeChanges }), T0)).code).toBe('SIGNATURE_INVALID');
    expect(state.authorize('sa-1', 's1', 'db:read', 'db/a', T0, opts).allowed).toBe(true);
    const applied = p.handle(message(topics.revocations, 'sa-1', revocation('sa-1', 1, 's1'), 2, { keys }), T0);
    expect(applied).toMatchObject({ type: 'applied', kind: 'revocation', revocation: { target: { id: 's1' } } });
    expect(state.authorize('sa-1', 's1', 'db:read', 'db/a', T0, opts).code).toBe('session-not-active');

    // A heartbeat of partition 1 presented as partition 0's (moved key), and one keyed for another partition than it says.
    expect(rejected(p.handle(message(topics.heartbeats, 'p0', heartbeat(1, T0), 0, { keys, signKey: 'p1' }), T0)).code).toBe('SIGNATURE_INVALID');
    expect(rejected(p.handle(message(topics.heartbeats, 'p0', heartbeat(1, T0), 1, { keys }), T0)).code).toBe('KEY_MISMATCH');
    expect(state.liveness.size).toBe(0);
    expect(p.handle(message(topics.heartbeats, 'p1', heartbeat(1, T0), 2, { keys }), T0)).toEqual({ type: 'heartbeat', partition: 1 });
  });

  it('a command whose key is not its identity is rejected even when signed so', () => {
    const { p } = setup();
    expect(rejected(p.handle(message(topics.scopeChanges, 'sa-2', change('sa-1', 1), 0, { keys }), T0)).code).toBe('KEY_MISMATCH');
  });
});

describe('versions: the highest per identity from any topic wins', () => {
  it('applies higher versions from either topic and treats equal ones as silent duplicates', () => {
    const { p, state } = setup();
    const seq: [string, object, number][] = [
      [topics.scopeChanges, change('sa-1', 1), 0],
      [topics.scopeSnapshots, snapshot('sa-1', 2), 0],
      [topics.scopeChanges, change('sa-1', 2), 1],
      [topics.scopeChanges, change('sa-1', 3), 2],
      [topics.scopeSnapshots, snapshot('sa-1', 3), 1],
    ];
    const types = seq.map(([topic, v, offset]) => p.handle(message(topic, 'sa-1', v, offset, { keys }), T0).type);
    expect(types).toEqual(['applied', 'applied', 'duplicate', 'applied', 'duplicate']);
    expect(state.identities.get('sa-1')!.version).toBe(3);
    expect(p.drainAlerts()).toEqual([]);
  });

  it('rejects a genuine older version on the same topic as a rollback, naming identity, versions, topic and offset', () => {
    const { p, state } = setup();
    const old = message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 3, { permissions: [{ action: 'db:write', resource: 'db/a', access: 'write', validUntil: null, grants: ['g1'] }] }), 0, { keys });
    p.handle(old, T0);
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 5, { permissions: [] }), 1, { keys }), T0);
    // The old snapshot, bytes and headers as captured, written again.
    const replay = rejected(p.handle({ ...old, offset: '2' }, T0));
    expect(replay).toMatchObject({ code: 'VERSION_ROLLBACK', identityId: 'sa-1' });
    expect(replay.reason).toMatch(/version 3 of sa-1 .* offset 2\) is older than the version held \(5\)/);
    expect(replay.alert.details).toMatchObject({ identityId: 'sa-1', heldVersion: 5, offeredVersion: 3, topic: topics.scopeSnapshots, partition: 0, offset: '2' });
    expect(state.identities.get('sa-1')!.version).toBe(5);
    expect(state.authorize('sa-1', 's1', 'db:write', 'db/a', T0, opts).code).toBe('not-in-scope');
    // The same on the changes topic.
    p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 6), 0, { keys }), T0);
    expect(rejected(p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 4), 1, { keys }), T0)).code).toBe('VERSION_ROLLBACK');
  });

  it('an older version explained by the other topic lagging is superseded without an alert; older than its own topic is not', () => {
    const { p } = setup();
    // The changes topic is read ahead of the snapshot topic: snapshot 5 arrives after change 6.
    expect(p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 5), 0, { keys }), T0).type).toBe('applied');
    expect(p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 6), 1, { keys }), T0).type).toBe('applied');
    expect(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 5), 0, { keys }), T0)).toMatchObject({ type: 'superseded', version: 5, held: 6 });
    expect(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 6), 1, { keys }), T0).type).toBe('duplicate');
    expect(p.drainAlerts()).toEqual([]);
    // Now snapshot 6 was read on the snapshot topic: 5 again there is a replay.
    expect(rejected(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 5), 2, { keys }), T0)).code).toBe('VERSION_ROLLBACK');
    // Snapshots ahead of changes, the other way round.
    p.handle(message(topics.scopeSnapshots, 'sa-2', snapshot('sa-2', 4), 3, { keys }), T0);
    expect(p.handle(message(topics.scopeChanges, 'sa-2', change('sa-2', 3), 2, { keys }), T0).type).toBe('superseded');
  });

  it('a change written after the start that is older than a snapshot written before the start is a rollback', () => {
    const starts: PartitionStart[] = [
      { topic: topics.scopeSnapshots, partition: 0, from: '0', end: '1', awaited: true },
      { topic: topics.scopeChanges, partition: 0, from: '10', end: '10', awaited: false },
    ];
    const { p } = setup({ starts });
    expect(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 4), 0, { keys }), T0).type).toBe('applied');
    expect(p.ready).toBe(true);
    // A change read live (offset ≥ the start position) cannot be genuinely older than that snapshot.
    const replay = rejected(p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 3), 10, { keys }), T0));
    expect(replay.reason).toMatch(/written after this enforcement point started, yet version 4 was written before/);
    expect(p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 5), 11, { keys }), T0).type).toBe('applied');
  });
});

describe('catch-up', () => {
  const starts: PartitionStart[] = [
    { topic: topics.scopeSnapshots, partition: 0, from: '0', end: '3', awaited: true },
    { topic: topics.scopeSnapshots, partition: 1, from: '0', end: '0', awaited: true }, // empty
    { topic: topics.scopeChanges, partition: 0, from: '7', end: '7', awaited: false },
  ];

  it('is ready once every snapshot partition has been read to where it stood at start; the history applies in order, silently', () => {
    const { p, state, onReady } = setup({ starts });
    expect(p.ready).toBe(false);
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 1), 0, { keys }), T0);
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 2), 1, { keys }), T0);
    // A live change is followed meanwhile; the catch-up waits for the snapshots only.
    p.handle(message(topics.scopeChanges, 'sa-2', change('sa-2', 1), 7, { keys }), T0);
    expect(onReady).not.toHaveBeenCalled();
    p.handle(message(topics.scopeSnapshots, 'sa-3', snapshot('sa-3', 9), 2, { keys }), T0);
    expect(onReady).toHaveBeenCalledTimes(1);
    expect(p.ready).toBe(true);
    expect([...state.identities].map(([id, v]) => [id, v.version])).toEqual([['sa-1', 2], ['sa-2', 1], ['sa-3', 9]]);
    expect(p.drainAlerts()).toEqual([]);
  });

  it('a snapshot older than one before it in the history is a rollback, even during the catch-up', () => {
    const { p, state } = setup({ starts });
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 1), 0, { keys }), T0);
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 3), 1, { keys }), T0);
    expect(rejected(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 2), 2, { keys }), T0)).code).toBe('VERSION_ROLLBACK');
    expect(state.identities.get('sa-1')!.version).toBe(3);
    expect(p.ready).toBe(true);
  });

  it('an unsigned snapshot in the history is alerted (it used to be skipped silently)', () => {
    const { p } = setup({ starts });
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 3), 0, { keys }), T0);
    expect(rejected(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 2), 1, { headers: {} }), T0)).code).toBe('SIGNATURE_MISSING');
    expect(p.drainAlerts()).toHaveLength(1);
  });

  it('with a changes lookback, ready also waits for the changes written before the start', () => {
    const { p, state, onReady } = setup({
      starts: [
        { topic: topics.scopeSnapshots, partition: 0, from: '0', end: '1', awaited: true },
        { topic: topics.scopeChanges, partition: 0, from: '4', end: '6', awaited: true },
      ],
    });
    // The compacted snapshot topic kept only an older snapshot; the change history holds the newer change.
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 3), 0, { keys }), T0);
    expect(onReady).not.toHaveBeenCalled();
    p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 4), 4, { keys }), T0);
    p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 5), 5, { keys }), T0);
    expect(onReady).toHaveBeenCalledTimes(1);
    expect(state.identities.get('sa-1')!.version).toBe(5);
  });

  it('started between a narrowing change and its delayed snapshot: with the default lookback it holds the change at ready; without, it converges when the snapshot comes, and nothing is taken for a rollback', () => {
    // The worker spaces snapshots (LIVESCOPE_SNAPSHOT_INTERVAL_MS): the snapshot topic still holds
    // version 3 when the enforcement point starts; the change of version 4 was written just before.
    const narrowed = change('sa-1', 4, { permissions: [] });
    const wide = snapshot('sa-1', 3, { permissions: [{ action: 'db:write', resource: 'db/a', access: 'write', validUntil: null, grants: ['g1'] }] });
    const lookback = setup({
      starts: [
        { topic: topics.scopeSnapshots, partition: 0, from: '0', end: '1', awaited: true },
        { topic: topics.scopeChanges, partition: 0, from: '7', end: '8', awaited: true },
      ],
    });
    lookback.p.handle(message(topics.scopeSnapshots, 'sa-1', wide, 0, { keys }), T0);
    expect(lookback.p.handle(message(topics.scopeChanges, 'sa-1', narrowed, 7, { keys }), T0)).toMatchObject({ type: 'applied', version: 4 });
    expect(lookback.onReady).toHaveBeenCalledTimes(1);
    expect(lookback.state.identities.get('sa-1')!.version).toBe(4);
    // The delayed snapshot of version 4, then a later change: a duplicate, then applied.
    expect(lookback.p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 4, { permissions: [] }), 1, { keys }), T0)).toMatchObject({ type: 'duplicate' });
    expect(lookback.p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 5), 8, { keys }), T0)).toMatchObject({ type: 'applied', version: 5 });

    // Snapshots only (changesLookbackMs 0): version 3 until the delayed snapshot arrives, then version 4.
    const only = setup({
      starts: [
        { topic: topics.scopeSnapshots, partition: 0, from: '0', end: '1', awaited: true },
        { topic: topics.scopeChanges, partition: 0, from: '8', end: '8', awaited: false },
      ],
    });
    only.p.handle(message(topics.scopeSnapshots, 'sa-1', wide, 0, { keys }), T0);
    expect(only.onReady).toHaveBeenCalledTimes(1);
    expect(only.state.identities.get('sa-1')!.version).toBe(3);
    expect(only.p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 4, { permissions: [] }), 1, { keys }), T0)).toMatchObject({ type: 'applied', version: 4 });
    expect(only.state.identities.get('sa-1')!.version).toBe(4);
    // Later commands of either topic are newer: nothing is refused as a rollback.
    expect(only.p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 5), 8, { keys }), T0)).toMatchObject({ type: 'applied', version: 5 });
    expect(only.p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 5), 2, { keys }), T0)).toMatchObject({ type: 'duplicate' });
    expect([...lookback.p.drainAlerts(), ...only.p.drainAlerts()]).toEqual([]);
  });

  it('ignores offsets it already handled (a rebalance re-reads them) and says where to resume', () => {
    const { p } = setup({ starts });
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 1), 0, { keys }), T0);
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 2), 1, { keys }), T0);
    expect(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 1), 0, { keys }), T0)).toEqual({ type: 'redelivered' });
    expect(p.drainAlerts()).toEqual([]);
    expect(p.resumeOffset(topics.scopeSnapshots, 0)).toBe('2');
    expect(p.resumeOffset(topics.scopeSnapshots, 1)).toBe('0');
    expect(p.resumeOffset(topics.scopeChanges, 0)).toBe('7');
  });
});

describe('acknowledgements and alerts recorded', () => {
  it('acknowledges applied commands with their produced and applied instants, and counts rejections', () => {
    const { p, acks } = setup();
    p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 1), 0, { keys, timestampMs: T0 - 250 }), T0);
    p.handle(message(topics.revocations, 'sa-1', revocation('sa-1', 1, 's1'), 0, { keys, timestampMs: T0 - 100 }), T0);
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 1), 0, { keys }), T0); // duplicate: not acknowledged again
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 2), 1, { headers: {} }), T0);
    const taken = acks.take(10);
    expect(taken.applied).toEqual([
      { identityId: 'sa-1', version: 1, producedAt: new Date(T0 - 250).toISOString(), appliedAt: new Date(T0).toISOString(), kind: 'scope.change' },
      { identityId: 'sa-1', version: 1, producedAt: new Date(T0 - 100).toISOString(), appliedAt: new Date(T0).toISOString(), kind: 'revocation' },
    ]);
    expect(taken.rejected).toBe(1);
  });

  it('keeps at most maxPendingAlerts alerts, dropping the oldest, and takes back those not sent', () => {
    const state = new EnforcerState(() => 0);
    const p = new CommandProcessor({ enforcerId: 'gw-1', topics, trustedKeys: [keys.trusted], state, maxPendingAlerts: 3 });
    p.begin([], T0);
    for (let i = 0; i < 5; i++) p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 1), i, { headers: {} }), T0);
    expect(p.alertsDropped).toBe(2);
    const sent = p.drainAlerts();
    expect(sent.map((a: DriftAlert) => a.details.offset)).toEqual(['2', '3', '4']);
    p.requeueAlerts(sent);
    expect(p.pendingAlerts).toBe(3);
  });
});

describe('high-water versions (after a restart)', () => {
  const starts: PartitionStart[] = [
    { topic: topics.scopeSnapshots, partition: 0, from: '0', end: '2', awaited: true },
    { topic: topics.scopeChanges, partition: 0, from: '0', end: '0', awaited: false },
  ];

  it('never takes an older snapshot: denies every action of a behind identity until a command at or above its version, alerting', () => {
    const { p, state } = setup({ starts, behind: [['sa-1', 5]] });
    state.heartbeat(0, T0);
    // The snapshot topic offers only older versions (the newest was compacted away behind a replayed old one).
    expect(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 3), 0, { keys }), T0)).toMatchObject({ type: 'superseded', version: 3 });
    expect(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 4, { permissions: [{ action: 'vault:read', resource: 'secret/x', access: 'read', validUntil: null, grants: ['g'] }] }), 1, { keys }), T0).type).toBe('superseded');
    expect(p.ready).toBe(true);
    const [alert, ...more] = p.drainAlerts();
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ type: 'rejected-command', identityId: 'sa-1', details: { code: 'VERSION_ROLLBACK', highWaterVersion: 5, offeredVersion: 4, topic: topics.scopeSnapshots, partition: 0, offset: '1' } });
    expect(state.identities.has('sa-1')).toBe(false);
    for (const action of ['db:read', 'vault:read']) {
      const d = state.authorize('sa-1', 's1', action, action === 'db:read' ? 'db/a' : 'secret/x', T0, opts);
      expect(d).toMatchObject({ allowed: false, code: 'stale' });
      expect(d.reason).toMatch(/version 5 was applied here before a restart/);
    }
    // A live replay of the old snapshot is a rollback at once.
    expect(rejected(p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 4), 2, { keys }), T0)).alert.details).toMatchObject({ heldVersion: null, highWaterVersion: 5, offeredVersion: 4 });
    // The next genuine command catches the identity up.
    expect(p.handle(message(topics.scopeChanges, 'sa-1', change('sa-1', 6), 0, { keys }), T0).type).toBe('applied');
    expect(state.behind.has('sa-1')).toBe(false);
    expect(state.authorize('sa-1', 's1', 'db:read', 'db/a', T0, opts).allowed).toBe(true);
    expect([...p.highWaterVersions()]).toEqual([['sa-1', 6]]);
  });

  it('an identity whose recorded version is on the snapshot topic is not behind, and raises no alert', () => {
    const { p, state } = setup({ starts, behind: [['sa-1', 4], ['sa-2', 2]] });
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 3), 0, { keys }), T0);
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 4), 1, { keys }), T0);
    // sa-2 appears nowhere: still behind, alerted.
    expect(p.drainAlerts().map((a) => a.identityId)).toEqual(['sa-2']);
    expect(state.identities.get('sa-1')!.version).toBe(4);
    expect([...p.highWaterVersions()]).toEqual([['sa-2', 2], ['sa-1', 4]]);
    expect(p.takeDirty()).toBe(true);
    expect(p.takeDirty()).toBe(false);
  });

  it('with many identities behind, alerts a bounded number one by one and the rest in one summary', () => {
    const state = new EnforcerState(() => 0);
    for (let i = 0; i < 5; i++) state.behind.set(`sa-${i}`, 2);
    const p = new CommandProcessor({ enforcerId: 'gw-1', topics, trustedKeys: [keys.trusted], state, maxBehindAlerts: 2 });
    p.begin([], T0);
    const alerts = p.drainAlerts();
    expect(alerts).toHaveLength(3);
    expect(alerts[2]!.summary).toMatch(/5 identities are behind/);
  });
});

describe('staleness from heartbeats', () => {
  const hb = (p: CommandProcessor, offset: number, at: number, next?: number, end?: number) => p.handle(message(topics.heartbeats, 'p0', heartbeat(0, at, next, end), offset, { keys }), at);

  it('fails closed for a silent partition, and for one that does not advance while input waits; progress ends it', () => {
    const { p, state } = setup();
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 1, { permissions: [{ action: 'vault:read', resource: 'secret/x', access: 'read', validUntil: null, grants: ['g'] }] }), 0, { keys }), T0);
    const sensitive = (now: number) => state.authorize('sa-1', 's1', 'vault:read', 'secret/x', now, opts);
    expect(sensitive(T0).reason).toMatch(/nothing heard from the pipeline for partition 0 ever/);
    hb(p, 0, T0, 10, 10);
    expect(sensitive(T0 + 1000).allowed).toBe(true);
    // Silence.
    expect(sensitive(T0 + 6000)).toMatchObject({ allowed: false, code: 'stale' });
    // Heartbeats keep coming, but the applied offset stays at 12 while the log end is 20.
    hb(p, 1, T0 + 1000, 12, 20);
    for (let i = 2; i <= 8; i++) hb(p, i, T0 + i * 1000, 12, 20 + i);
    const d = sensitive(T0 + 8000);
    expect(d).toMatchObject({ allowed: false, code: 'stale' });
    expect(d.reason).toBe('fail-closed: partition 0 has not advanced past offset 12 for 7000 ms while 16 messages wait (max 5000 ms), and vault:read is sensitive');
    // Non-sensitive actions keep working on the last known scope.
    expect(state.authorize('sa-1', 's1', 'db:read', 'db/a', T0 + 8000, opts).code).toBe('not-in-scope');
    // It advances again.
    hb(p, 9, T0 + 9000, 13, 30);
    expect(sensitive(T0 + 9000).allowed).toBe(true);
    // Caught up with the log end: not stuck, however long since it last moved.
    hb(p, 10, T0 + 20_000, 30, 30);
    hb(p, 11, T0 + 26_000, 30, 30);
    expect(sensitive(T0 + 26_000).allowed).toBe(true);
  });

  it('keeps the silence rule alone for heartbeats of older workers (no logEndOffset), and ignores heartbeats older than the latest', () => {
    const { p, state } = setup();
    p.handle(message(topics.scopeSnapshots, 'sa-1', snapshot('sa-1', 1, { permissions: [{ action: 'vault:read', resource: 'secret/x', access: 'read', validUntil: null, grants: ['g'] }] }), 0, { keys }), T0);
    for (let i = 0; i <= 10; i++) hb(p, i, T0 + i * 1000, 12);
    expect(state.authorize('sa-1', 's1', 'vault:read', 'secret/x', T0 + 10_000, opts).allowed).toBe(true);
    // A late heartbeat of a worker that lost the partition changes nothing.
    hb(p, 11, T0 + 2000, 3, 50);
    expect(state.liveness.get(0)).toMatchObject({ heartbeatAt: T0 + 10_000, waiting: false });
    expect(state.authorize('sa-1', 's1', 'vault:read', 'secret/x', T0 + 16_000, opts).code).toBe('stale');
  });
});
