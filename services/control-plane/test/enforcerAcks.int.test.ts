import { encodeWireJson, identityEvent, valueSubject, type EnforcerAck } from '@livescope/contracts';
import { waitFor } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../src/ControlPlane.js';
import { Harness } from './support/harness.js';

/**
 * Whose acknowledgements count (issue 14.5): the harness enforcer signs its acknowledgements with
 * its own key, which the control plane knows for its id. A rogue writer of the acknowledgements
 * topic then claims to be that enforcer (unsigned), and a made-up enforcement point without a key
 * claims to have applied an order. Order status and /v1/enforcers say whose acknowledgements were
 * verified; a strict instance (LIVESCOPE_API_REQUIRE_SIGNED_ACKS) counts only those.
 */
const h = new Harness({ enforcer: true, signedAcks: true });
let strict: ControlPlane;
let responder: string;
let soc: string;
const T = new Date().toISOString();
let id: string;

beforeAll(async () => {
  await h.open();
  strict = await h.startControlPlane({ LIVESCOPE_API_GROUP_ID: `${h.fx.groupId}-strict`, LIVESCOPE_API_REQUIRE_SIGNED_ACKS: 'true' });
  id = `acks-${h.fx.id}`;
  await h.publish([
    identityEvent('identity.created', id, { kind: 'workload', name: 'acks', namespace: 'payments', owner: 'team-pay' }, { id: `${id}/1`, time: T }),
    identityEvent('entitlement.granted', id, { grantId: 'g-1', role: 'db', permissions: [{ action: 'db:write', resource: 'db/x', access: 'write' }] }, { id: `${id}/2`, time: T }),
  ]);
  await h.scopeWhere(id, (s) => s.permissions.length === 1);
  responder = await h.token(['responder'], 'alice');
  soc = await h.token(['soc'], 'sam');
});

afterAll(async () => {
  await strict?.stop().catch(() => undefined);
  await h.close();
});

/** Writes an acknowledgement to the acks topic as a rogue producer would: plain kafkajs, no signature. */
async function forgeAck(enforcerId: string, applied: { identityId: string; version: number; kind: string; producedAt: string; appliedAt: string }[]): Promise<void> {
  const ids = await h.fx.registry.loadSubjectIds(valueSubject(h.fx.topics.enforcerAcks));
  const ack = { kind: 'enforcer.ack', enforcerId, at: new Date().toISOString(), identities: 1, applied, rejected: 0 } as unknown as EnforcerAck;
  const producer = h.fx.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: h.fx.topics.enforcerAcks, acks: -1, messages: [{ key: enforcerId, value: encodeWireJson(Math.max(...ids), ack) }] });
  } finally {
    await producer.disconnect();
  }
}

async function status(baseUrl: string, orderId: string): Promise<{ enforcers: { known: number; applied: number; appliedBy: string[]; verified: number } }> {
  const res = await fetch(`${baseUrl}/v1/orders/${orderId}/status`, { headers: { authorization: `Bearer ${soc}` }, signal: AbortSignal.timeout(30_000) });
  return ((await res.json()) as { issue: { enforcers: { known: number; applied: number; appliedBy: string[]; verified: number } } }).issue;
}

describe('acknowledgements signed by the enforcement point', () => {
  it('counts the signed enforcer as verified; a forged unsigned ack in its name and a keyless newcomer do not pass as verified', async () => {
    const refusedBefore = (await h.cp.metrics.acksRefused.get()).values.find((v) => v.labels.reason === 'unsigned')?.value ?? 0;
    const issued = await h.api('POST', '/v1/orders', responder, { kind: 'read-only', target: { identityId: id }, reason: 'acks test' });
    expect(issued.status).toBe(202);
    const orderId = (issued.json as { orderId: string }).orderId;
    await waitFor('the harness enforcer to apply the order (lenient instance)', async () => (await status(h.cp.url, orderId)).enforcers.applied >= 1, 30_000, 100);
    const scope = ((await h.api('GET', `/v1/identities/${id}/scope`, soc)).json as { version: number }).version;

    // A rogue writer claims, unsigned, to be the harness enforcer; a made-up one claims the order too.
    await forgeAck(h.enforcerId, [{ identityId: id, version: scope + 100, kind: 'scope.change', producedAt: T, appliedAt: new Date().toISOString() }]);
    await forgeAck(`rogue-${h.fx.id}`, [{ identityId: id, version: scope, kind: 'scope.change', producedAt: T, appliedAt: new Date().toISOString() }]);

    await waitFor('the forged ack in the enforcer’s name to be refused', async () => ((await h.cp.metrics.acksRefused.get()).values.find((v) => v.labels.reason === 'unsigned')?.value ?? 0) > refusedBefore, 30_000, 100);
    const lenient = await waitFor('the rogue enforcer to be counted (unverified) by the lenient instance', async () => {
      const s = await status(h.cp.url, orderId);
      return s.enforcers.known === 2 ? s : undefined;
    }, 30_000, 100);
    expect(lenient.enforcers).toMatchObject({ applied: 2, verified: 1 });
    expect(lenient.enforcers.appliedBy.sort()).toEqual([h.enforcerId, `rogue-${h.fx.id}`].sort());

    // /v1/enforcers is written by another consumer of the acknowledgements (into PostgreSQL): wait for it too.
    type Listed = { enforcers: { enforcerId: string; acksVerified: boolean | null; lastApplied: { version: number } | null }[] };
    const listed = await waitFor('both enforcement points in /v1/enforcers', async () => {
      const l = (await h.api('GET', '/v1/enforcers', soc)).json as Listed;
      return l.enforcers.some((e) => e.enforcerId === `rogue-${h.fx.id}`) && l.enforcers.some((e) => e.enforcerId === h.enforcerId) ? l : undefined;
    }, 30_000, 100);
    const mine = listed.enforcers.find((e) => e.enforcerId === h.enforcerId);
    expect(mine?.acksVerified).toBe(true);
    // The forged version never reached the record of the harness enforcer.
    expect(mine?.lastApplied?.version).toBeLessThan(scope + 100);
    expect(listed.enforcers.find((e) => e.enforcerId === `rogue-${h.fx.id}`)?.acksVerified).toBe(false);

    // The strict instance counts only the verified enforcement point.
    const strictStatus = await waitFor('the strict instance to see the harness enforcer apply the order', async () => {
      const s = await status(strict.url, orderId);
      return s.enforcers.applied >= 1 ? s : undefined;
    }, 30_000, 100);
    expect(strictStatus.enforcers).toMatchObject({ known: 1, applied: 1, verified: 1, appliedBy: [h.enforcerId] });
    const strictRefused = (await strict.metrics.acksRefused.get()).values;
    expect(strictRefused.find((v) => v.labels.reason === 'no-key')?.value).toBeGreaterThanOrEqual(1);
  });
});
