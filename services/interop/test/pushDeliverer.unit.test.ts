import { draftsForRevocation } from '@livescope/caep';
import { Revocation } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { InteropMetrics } from '../src/InteropMetrics.js';
import { MemorySsfStore } from '../src/ssf/MemorySsfStore.js';
import { PushDeliverer } from '../src/ssf/PushDeliverer.js';
import { Transmitter } from '../src/ssf/Transmitter.js';
import { acme, rsaSigner, scriptedFetch, silentLogger } from './support.js';

const { signer } = await rsaSigner();
const ISS = 'https://tx.example';
const draft = () =>
  draftsForRevocation(Revocation.parse({ kind: 'revocation', revocationId: 'sa-1/2/0', identityId: 'sa-1', version: 2, at: '2026-11-28T10:00:00.000Z', target: { type: 'session', id: 's-1', system: 'vault' }, reason: 'task completed', cause: {} }), { subjectIssuer: ISS, sessionSubjects: 'complex' });

async function setup(answers: (Response | Error)[], maxAttempts = 3) {
  let now = 1_000_000;
  const store = new MemorySsfStore();
  const t = new Transmitter({ store, signer, issuer: () => ISS, defaultSubjects: 'ALL', minVerificationIntervalSec: 0, pollWaitMs: 0, pollAckTimeoutMs: 1000, now: () => now });
  const s = await t.create(acme, { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://acme.example/push', authorization_header: 'Bearer push-secret-123456' } });
  await t.fanOut(draft());
  const f = scriptedFetch(answers);
  const metrics = new InteropMetrics();
  const d = new PushDeliverer({ store, logger: silentLogger, metrics, timeoutMs: 1000, maxAttempts, retryBaseMs: 100, retryMaxMs: 1000, intervalMs: 10, fetch: f.fetch, now: () => now });
  return { store, streamId: s.stream_id as string, d, f, metrics, advance: (ms: number) => (now += ms) };
}

describe('RFC 8935 push delivery', () => {
  it('POSTs the SET as application/secevent+jwt with the stream authorization, and forgets it on 202', async () => {
    const { d, f, store, streamId } = await setup([new Response(null, { status: 202 })]);
    expect(await d.runOnce()).toBe(1);
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.url).toBe('https://acme.example/push');
    expect(f.calls[0]!.init.headers).toEqual({ 'content-type': 'application/secevent+jwt', accept: 'application/json', authorization: 'Bearer push-secret-123456' });
    expect((f.calls[0]!.init.body as string).split('.')).toHaveLength(3);
    expect(await store.outboxCounts(streamId)).toEqual({ pending: 0, failed: 0 });
  });

  it('retries 5xx and network errors with backoff, then delivers', async () => {
    const { d, f, store, streamId, advance } = await setup([new Response('busy', { status: 503 }), new Error('ECONNREFUSED'), new Response(null, { status: 202 })]);
    await d.runOnce();
    expect(await d.runOnce()).toBe(0); // not due yet: backing off
    advance(10_000);
    await d.runOnce();
    advance(10_000);
    await d.runOnce();
    expect(f.calls).toHaveLength(3);
    expect(await store.outboxCounts(streamId)).toEqual({ pending: 0, failed: 0 });
  });

  it('marks the SET failed on a permanent rejection (400 with an RFC 8935 error) without retrying', async () => {
    const { d, f, store, streamId, advance, metrics } = await setup([new Response(JSON.stringify({ err: 'invalid_audience', description: 'no' }), { status: 400 })]);
    await d.runOnce();
    advance(60_000);
    await d.runOnce();
    expect(f.calls).toHaveLength(1);
    expect(await store.outboxCounts(streamId)).toEqual({ pending: 0, failed: 1 });
    expect((await metrics.pushDeliveries.get()).values.find((v) => v.labels.outcome === 'failed')?.value).toBe(1);
  });

  it('gives up after maxAttempts', async () => {
    const { d, f, store, streamId, advance } = await setup([new Response(null, { status: 500 })], 3);
    for (let i = 0; i < 6; i++) {
      await d.runOnce();
      advance(60_000);
    }
    expect(f.calls).toHaveLength(3);
    expect(await store.outboxCounts(streamId)).toEqual({ pending: 0, failed: 1 });
  });
});
