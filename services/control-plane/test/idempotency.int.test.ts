import { randomUUID } from 'node:crypto';
import type { TopicTail } from '@livescope/testkit';
import { waitFor } from '@livescope/testkit';
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './support/harness.js';
import { StallableBrokers } from './support/StallableBrokers.js';

/**
 * `Idempotency-Key` on orders and lifts over the real pipeline: a retry gets the first answer and
 * publishes nothing (checked on the events topic), another request under the same key is 422, keys
 * of different subjects never meet, concurrent retries publish once, a retry after a 503 "may still
 * be written" waits for that publication instead of making a second one (on any instance), a key
 * whose order Kafka refused is free again, and the
 * answers hold across a restart of the control plane (they are in PostgreSQL).
 */
const PUBLISH_TIMEOUT_MS = 1000;
const h = new Harness({ env: { LIVESCOPE_API_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS) } });
let tail: TopicTail;
let alice: string;
let identityId: string;

beforeAll(async () => {
  await h.open();
  tail = await h.fx.tail(['events']);
  alice = await h.token(['responder'], 'alice');
  identityId = `idem-${h.fx.id}`;
});

afterAll(async () => {
  await tail?.stop();
  await h.close();
});

interface Answer {
  readonly status: number;
  readonly replayed: boolean;
  readonly json: { orderId?: string; eventId?: string; code?: string; detail?: string } & Record<string, unknown>;
}

async function post(path: string, token: string, body: unknown, key?: string, baseUrl = h.cp.url): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key !== undefined ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', json: (await res.json()) as Answer['json'] };
}

const order = (reason: string): { kind: string; target: { identityId: string }; reason: string } => ({ kind: 'read-only', target: { identityId }, reason });

interface OrderEvent {
  readonly type: string;
  readonly data: { readonly orderId: string; readonly reason?: string };
}
/** Copies of order events on the events topic (one per partition for each broadcast), by reason. */
const published = (type: 'order.issued' | 'order.lifted', match: (e: OrderEvent) => boolean): OrderEvent[] =>
  tail
    .of<OrderEvent | undefined>(h.fx.topics.events)
    .map((m) => m.value)
    .filter((v): v is OrderEvent => v?.type === type && match(v));

/**
 * Publishes one more order and waits for all its copies: what the control plane published before
 * it is on the topic by then (one producer, in order), so counting earlier orders is final.
 */
async function settle(): Promise<void> {
  const reason = `sentinel-${randomUUID()}`;
  const r = await post('/v1/orders', alice, order(reason));
  expect(r.status).toBe(202);
  await waitFor('every copy of the sentinel order on the events topic', () => published('order.issued', (e) => e.data.reason === reason).length === h.fx.partitions, 20_000, 50);
}

const keys = { first: randomUUID(), mayLand: randomUUID() };
const answers: Record<string, Answer> = {};

describe('Idempotency-Key', () => {
  it('answers a retried order with its first answer, and publishes it once', async () => {
    const reason = `retried-${h.fx.id}`;
    const first = await post('/v1/orders', alice, order(reason), keys.first);
    expect(first.status).toBe(202);
    expect(first.replayed).toBe(false);
    // The same request, its fields in another order.
    const again = await post('/v1/orders', alice, { reason, target: { identityId }, kind: 'read-only' }, keys.first);
    expect(again).toEqual({ status: 202, replayed: true, json: first.json });
    await settle();
    const copies = published('order.issued', (e) => e.data.reason === reason);
    expect(copies).toHaveLength(h.fx.partitions);
    expect(new Set(copies.map((e) => e.data.orderId))).toEqual(new Set([first.json.orderId]));
    answers.first = first;
  });

  it('refuses the same key with another request (422), and keeps the keys of subjects apart', async () => {
    const other = await post('/v1/orders', alice, order('another reason'), keys.first);
    expect(other.status).toBe(422);
    expect(other.json).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', detail: expect.stringContaining(keys.first) as unknown });
    const bob = await post('/v1/orders', await h.token(['responder'], 'bob'), order(`retried-${h.fx.id}`), keys.first);
    expect(bob.status).toBe(202);
    expect(bob.replayed).toBe(false);
    expect(bob.json.orderId).not.toBe(answers.first!.json.orderId);
    expect((await post('/v1/orders', alice, order('fine'), '')).status).toBe(400);
    expect((await post('/v1/orders', alice, order('fine'), 'has space')).json).toMatchObject({ code: 'INVALID_REQUEST', paths: ['header.idempotency-key'] });
  });

  it('publishes concurrent requests with one key once, and answers them all alike', async () => {
    const reason = `concurrent-${h.fx.id}`;
    const key = randomUUID();
    const all = await Promise.all(Array.from({ length: 4 }, () => post('/v1/orders', alice, order(reason), key)));
    expect(all.map((a) => a.status)).toEqual([202, 202, 202, 202]);
    expect(new Set(all.map((a) => a.json.orderId)).size).toBe(1);
    expect(all.filter((a) => !a.replayed)).toHaveLength(1);
    await settle();
    expect(published('order.issued', (e) => e.data.reason === reason)).toHaveLength(h.fx.partitions);
  });

  it('answers a retried lift with its first answer instead of 409, and refuses the key for another lift', async () => {
    const issued = await post('/v1/orders', alice, order(`to lift ${h.fx.id}`));
    const orderId = issued.json.orderId!;
    const key = randomUUID();
    const lift = await post(`/v1/orders/${orderId}/lift`, alice, { reason: 'resolved' }, key);
    expect(lift.status).toBe(202);
    const again = await post(`/v1/orders/${orderId}/lift`, alice, { reason: 'resolved' }, key);
    expect(again).toEqual({ status: 202, replayed: true, json: lift.json });
    expect((await post(`/v1/orders/${orderId}/lift`, alice, { reason: 'resolved' })).status).toBe(409);
    expect((await post(`/v1/orders/${orderId}/lift`, alice, { reason: 'another' }, key)).status).toBe(422);
    await settle();
    expect(published('order.lifted', (e) => e.data.orderId === orderId)).toHaveLength(h.fx.partitions);
  });

  it('after a 503 that may still land, answers a retry once Kafka confirms the first publication, never publishing a second order', async () => {
    const reason = `may-land-${h.fx.id}`;
    // A second instance whose broker connections the test stalls: its produce requests reach the
    // broker and are written, but their confirmations wait.
    const brokers = new StallableBrokers();
    const other = await h.startControlPlane({ LIVESCOPE_API_GROUP_ID: `${h.fx.groupId}-cp2`, LIVESCOPE_API_INSTANCE_ID: `cp2-${h.fx.id}` }, h.fx.logger, { kafkaConfig: { socketFactory: brokers.socketFactory } });
    try {
      // Warm up: the producer knows the topic's partitions before the stall.
      expect((await post('/v1/orders', alice, order(`warm-up ${h.fx.id}`), undefined, other.url)).status).toBe(202);
      brokers.stall();
      const first = await post('/v1/orders', alice, order(reason), keys.mayLand, other.url);
      expect(first.status).toBe(503);
      expect(first.json).toMatchObject({ code: 'UNAVAILABLE', component: 'kafka', detail: expect.stringMatching(/may still be written.*same Idempotency-Key/) as unknown });
      const orderId = /order (o-[A-Za-z0-9_-]+)/.exec(first.json.detail!)?.[1];
      expect(orderId).toBeDefined();
      // It landed; only its confirmation is held.
      await waitFor('the unconfirmed order on the events topic', () => published('order.issued', (e) => e.data.reason === reason).length === h.fx.partitions, 20_000, 50);
      // Retries, on either instance, wait for the confirmation (up to the publish timeout) and publish nothing.
      for (const url of [other.url, h.cp.url]) {
        const pending = await post('/v1/orders', alice, order(reason), keys.mayLand, url);
        expect(pending.status).toBe(503);
        expect(pending.json.detail!).toContain(`order ${orderId} is recorded but Kafka has not confirmed`);
      }
      brokers.resume();
      let landed: Answer | undefined;
      await waitFor(
        'a retry to be answered 202 once the first publication is confirmed',
        async () => {
          landed = await post('/v1/orders', alice, order(reason), keys.mayLand);
          return landed.status === 202;
        },
        30_000,
        250,
      );
      expect(landed).toMatchObject({ replayed: true, json: { orderId, kind: 'read-only', actor: 'alice', partitions: h.fx.partitions } });
      await settle();
      const copies = published('order.issued', (e) => e.data.reason === reason);
      expect(copies).toHaveLength(h.fx.partitions);
      expect(new Set(copies.map((e) => e.data.orderId))).toEqual(new Set([orderId]));
      expect(await post('/v1/orders', alice, order(reason), keys.mayLand, other.url)).toEqual({ status: 202, replayed: true, json: landed!.json });
      answers.mayLand = landed!;
    } finally {
      brokers.resume();
      await other.stop();
    }
  });

  it('releases the key of an order Kafka refused (nothing was published): a retry publishes it', async () => {
    let reason = '';
    let key = '';
    const resource = { type: ConfigResourceTypes.TOPIC, name: h.fx.topics.events };
    const described = await h.fx.admin.describeConfigs({ resources: [resource], includeSynonyms: false });
    // Only the settings made on the topic (configSource 1): alterConfigs replaces them all.
    const own = described.resources[0]!.configEntries.filter((e) => (e as { configSource?: number }).configSource === 1).map((e) => ({ name: e.configName, value: e.configValue }));
    // Messages larger than 100 bytes are refused outright (MESSAGE_TOO_LARGE is not retried).
    await h.fx.admin.alterConfigs({ validateOnly: false, resources: [{ ...resource, configEntries: [...own.filter((e) => e.name !== 'max.message.bytes'), { name: 'max.message.bytes', value: '100' }] }] });
    try {
      let refused: Answer | undefined;
      // Until the setting applies an order may still pass: each attempt is a request of its own.
      await waitFor(
        'the broker to refuse the order (its topic setting applied)',
        async () => {
          reason = `refused-${randomUUID()}`;
          key = randomUUID();
          refused = await post('/v1/orders', alice, order(reason), key);
          return refused.status === 503;
        },
        10_000,
        200,
      );
      expect(refused!.json).toMatchObject({ code: 'UNAVAILABLE', component: 'kafka', detail: expect.stringMatching(/was not published/) as unknown });
    } finally {
      await h.fx.admin.alterConfigs({ validateOnly: false, resources: [{ ...resource, configEntries: own }] });
    }
    let published202: Answer | undefined;
    await waitFor(
      'a retry with the key to publish once the topic takes the order again',
      async () => {
        published202 = await post('/v1/orders', alice, order(reason), key);
        return published202.status === 202;
      },
      10_000,
      200,
    );
    expect(published202!.replayed).toBe(false);
    await settle();
    const copies = published('order.issued', (e) => e.data.reason === reason);
    expect(copies).toHaveLength(h.fx.partitions);
    expect(new Set(copies.map((e) => e.data.orderId))).toEqual(new Set([published202!.json.orderId]));
  });

  it('gives the same answers after a restart of the control plane: they are kept in PostgreSQL', async () => {
    await h.restartControlPlane();
    expect(await post('/v1/orders', alice, order(`retried-${h.fx.id}`), keys.first)).toEqual({ status: 202, replayed: true, json: answers.first!.json });
    expect(await post('/v1/orders', alice, order(`may-land-${h.fx.id}`), keys.mayLand)).toEqual({ status: 202, replayed: true, json: answers.mayLand!.json });
    await settle();
    expect(published('order.issued', (e) => e.data.reason === `retried-${h.fx.id}` && e.data.orderId === answers.first!.json.orderId)).toHaveLength(h.fx.partitions);
  });
});
