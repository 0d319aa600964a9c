import { describe, expect, it } from 'vitest';
import { WebhookSink } from '../src/WebhookSink.js';
import { scriptedFetch, silentLogger } from './support.js';

const sink = (answers: (Response | Error)[], maxAttempts = 4) => {
  const f = scriptedFetch(answers);
  const waits: number[] = [];
  return { f, waits, sink: new WebhookSink({ url: 'https://siem.example/hec', authorization: 'Splunk tok', maxAttempts, timeoutMs: 1000, retryBaseMs: 100, retryMaxMs: 1000, logger: silentLogger, fetch: f.fetch, sleep: (ms) => Promise.resolve(void waits.push(ms)) }) };
};

describe('SIEM webhook sink', () => {
  it('posts JSON with the configured authorization', async () => {
    const { sink: s, f } = sink([new Response(null, { status: 200 })]);
    expect(await s.deliver({ a: 1 })).toEqual({ outcome: 'delivered', attempts: 1 });
    expect(f.calls[0]!.init).toMatchObject({ method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json', authorization: 'Splunk tok' } });
  });
  it('retries 5xx, 429 and network errors with growing waits, and stops on other 4xx', async () => {
    const { sink: s, waits } = sink([new Response(null, { status: 503 }), new Response(null, { status: 429 }), new Error('reset'), new Response(null, { status: 201 })]);
    expect(await s.deliver({})).toEqual({ outcome: 'delivered', attempts: 4 });
    expect(waits).toHaveLength(3);
    expect(waits[2]!).toBeGreaterThanOrEqual(waits[0]!);
    const rejected = sink([new Response(null, { status: 401 })]);
    expect(await rejected.sink.deliver({})).toEqual({ outcome: 'rejected', attempts: 1, error: 'HTTP 401' });
    const down = sink([new Response(null, { status: 500 })], 2);
    expect(await down.sink.deliver({})).toEqual({ outcome: 'gave-up', attempts: 2, error: 'HTTP 500' });
  });
});
