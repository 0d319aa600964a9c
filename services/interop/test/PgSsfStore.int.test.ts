import { randomUUID } from 'node:crypto';
import { testEnv } from '@livescope/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgSsfStore } from '../src/ssf/PgSsfStore.js';
import type { OutboxEntry, StreamRecord } from '../src/ssf/SsfStore.js';

const schema = `t_ssf_${randomUUID().slice(0, 8)}`;
let a: PgSsfStore;
let b: PgSsfStore;

const stream = (id: string, method: 'urn:ietf:rfc:8935' | 'urn:ietf:rfc:8936', status: StreamRecord['status'] = 'enabled'): StreamRecord => ({
  streamId: id,
  clientId: 'acme',
  aud: 'https://acme.example',
  delivery: method === 'urn:ietf:rfc:8935' ? { method, endpoint_url: 'https://acme.example/push' } : { method, endpoint_url: 'https://tx/poll' },
  eventsRequested: [],
  status,
  createdAt: '2026-11-28T00:00:00.000Z',
  updatedAt: '2026-11-28T00:00:00.000Z',
});
const entry = (streamId: string, jti: string, createdAt: number): OutboxEntry => ({ streamId, jti, set: `h.${jti}.s`, eventType: 'e', createdAt, attempts: 0, nextAttemptAt: createdAt });

beforeAll(async () => {
  a = await PgSsfStore.open(testEnv.pgUrl, schema);
  b = await PgSsfStore.open(testEnv.pgUrl, schema);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  const c = new pg.Client({ connectionString: testEnv.pgUrl });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
});

describe('SSF state in PostgreSQL', () => {
  it('stores streams per client and records subject decisions', async () => {
    await a.createStream(stream('p1', 'urn:ietf:rfc:8935'));
    await a.createStream(stream('q1', 'urn:ietf:rfc:8936'));
    expect((await b.listStreams('acme')).map((s) => s.streamId)).toEqual(['p1', 'q1']);
    await a.updateStream({ ...stream('q1', 'urn:ietf:rfc:8936'), description: 'poll' });
    expect((await b.getStream('q1'))?.description).toBe('poll');
    await a.setSubject('p1', 'k1', { format: 'opaque', id: '1' }, false);
    expect(await b.subjectDecision('p1', ['k1', 'k2'])).toBe(false);
    await a.setSubject('p1', 'k1', { format: 'opaque', id: '1' }, true);
    expect(await b.subjectDecision('p1', ['k1'])).toBe(true);
    expect(await b.subjectDecision('p1', ['k3'])).toBeUndefined();
  });

  it('two instances never claim the same push SET; a (stream, jti) is queued once', async () => {
    expect(await a.enqueue([entry('p1', 'j1', 1), entry('p1', 'j2', 2), entry('p1', 'j3', 3)])).toBe(3);
    expect(await b.enqueue([entry('p1', 'j1', 1)])).toBe(0);
    const [x, y] = await Promise.all([a.claimPush(10, 2, 1000), b.claimPush(10, 2, 1000)]);
    const claimed = [...x, ...y].map((e) => e.jti).sort();
    expect(claimed).toEqual(['j1', 'j2', 'j3']);
    expect(await a.claimPush(10, 10, 1000)).toEqual([]); // leased until 1010
    await a.retryLater('p1', 'j1', 1, 500, 'HTTP 503');
    await a.failed('p1', 'j2', 20, 'HTTP 400');
    await a.delivered('p1', 'j3');
    expect((await b.claimPush(600, 10, 1000)).map((e) => [e.jti, e.attempts, e.lastError])).toEqual([['j1', 1, 'HTTP 503']]);
    expect(await b.outboxCounts('p1')).toEqual({ pending: 1, failed: 1 });
  });

  it('polls oldest first, tells when more are available, re-delivers after the ack timeout, forgets acknowledged SETs', async () => {
    await a.enqueue([entry('q1', 'k1', 1), entry('q1', 'k2', 2), entry('q1', 'k3', 3)]);
    const first = await a.poll('q1', 2, 100, 1000);
    expect(first.entries.map((e) => e.jti)).toEqual(['k1', 'k2']);
    expect(first.moreAvailable).toBe(true);
    expect((await b.poll('q1', 10, 100, 1000)).entries.map((e) => e.jti)).toEqual(['k3']);
    expect((await b.poll('q1', 10, 200, 1000)).entries).toEqual([]);
    expect(await a.acknowledge('q1', ['k1', 'k3'])).toBe(2);
    expect((await b.poll('q1', 10, 2000, 1000)).entries.map((e) => e.jti)).toEqual(['k2']);
    await a.dropOutbox('q1');
    expect(await a.outboxCounts('q1')).toEqual({ pending: 0, failed: 0 });
  });

  it('remembers received SET ids across instances until they are forgotten', async () => {
    expect(await a.rememberReceived('https://idp', 'x', 1000)).toBe(true);
    expect(await b.hasReceived('https://idp', 'x')).toBe(true);
    expect(await b.rememberReceived('https://idp', 'x', 1001)).toBe(false);
    await a.forgetReceived(1001);
    expect(await b.hasReceived('https://idp', 'x')).toBe(false);
  });

  it('deleting a stream deletes its subjects and queued SETs', async () => {
    await a.enqueue([entry('p1', 'z1', 5)]);
    expect(await a.deleteStream('p1')).toBe(true);
    expect(await b.getStream('p1')).toBeUndefined();
    expect(await b.outboxCounts('p1')).toEqual({ pending: 0, failed: 0 });
  });
});
