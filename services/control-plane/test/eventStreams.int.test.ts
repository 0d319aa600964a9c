import { waitFor } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './support/harness.js';
import { readEvents, type SseEvent } from './support/readEvents.js';

/**
 * Server-Sent Events streams are bounded: at most N at once per token subject (alerts and changes
 * together), and each ends when its token expires, saying why, so that a stream never outlives the
 * credentials it was opened with.
 */
const PER_SUBJECT = 2;
const h = new Harness({ env: { LIVESCOPE_API_SSE_MAX_PER_SUBJECT: String(PER_SUBJECT), LIVESCOPE_API_SSE_POLL_MS: '200' } });

beforeAll(async () => {
  await h.open();
});

afterAll(async () => {
  await h.close();
});

interface OpenStream {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly events: SseEvent[];
  /** Resolves when the server ends the stream (or it is closed here), with when that was. */
  readonly ended: Promise<number>;
  close(): void;
}

/** Opens a stream and collects its events; a refusal is read whole. */
async function open(path: string, token: string): Promise<OpenStream> {
  const ctl = new AbortController();
  const res = await fetch(`${h.cp.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: ctl.signal });
  const events: SseEvent[] = [];
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
    const body = await res.text();
    return { status: res.status, headers: res.headers, body, events, ended: Promise.resolve(Date.now()), close: () => ctl.abort() };
  }
  const ended = (async () => {
    try {
      for await (const e of readEvents(res.body!, ctl.signal)) events.push(e);
    } catch (e) {
      if (!ctl.signal.aborted) throw e;
    }
    return Date.now();
  })();
  return { status: res.status, headers: res.headers, body: '', events, ended, close: () => ctl.abort() };
}

describe('event streams', () => {
  it('allows each token subject at most N streams at once, alerts and changes together', async () => {
    const ana = await h.token(['soc'], 'sse-ana');
    const first = await open('/v1/alerts/stream', ana);
    const second = await open('/v1/changes/stream', ana);
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await open('/v1/alerts/stream', ana);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(third.body)).toMatchObject({ code: 'RATE_LIMITED', detail: expect.stringContaining(`at most ${PER_SUBJECT} concurrent event streams`) as unknown });
    // Another subject is not affected.
    const bob = await open('/v1/alerts/stream', await h.token(['soc'], 'sse-bob'));
    expect(bob.status).toBe(200);
    // A closed stream gives its slot back.
    first.close();
    let again: OpenStream | undefined;
    await waitFor(
      'a slot of sse-ana once one of its streams closed',
      async () => {
        const s = await open('/v1/alerts/stream', ana);
        if (s.status === 200) again = s;
        else s.close();
        return s.status === 200;
      },
      10_000,
      100,
    );
    for (const s of [second, bob, again!]) s.close();
    expect((await h.cp.metrics.rateLimited.get()).values.find((v) => v.labels.budget === 'streams')?.value).toBeGreaterThanOrEqual(1);
  });

  it('ends a stream when its token expires, saying why in a last event', async () => {
    const expiresInSec = 3;
    const token = await h.token(['soc'], 'sse-short', { expiresInSec });
    const expMs = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
    const s = await open('/v1/alerts/stream', token);
    expect(s.status).toBe(200);
    const endedAt = await Promise.race([s.ended, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the stream was still open ${expiresInSec + 10} s after its token was minted`)), (expiresInSec + 10) * 1000))]);
    const last = s.events.at(-1);
    expect(last?.event).toBe('stream.end');
    expect(last?.id).toBeUndefined();
    expect(JSON.parse(last!.data)).toMatchObject({ reason: 'token-expired' });
    // Not before the token's exp (timers may fire a millisecond early), and promptly after it.
    expect(endedAt).toBeGreaterThanOrEqual(expMs - 20);
    expect(endedAt - expMs).toBeLessThan(2500);
    expect((await h.cp.metrics.sseEnded.get()).values.find((v) => v.labels.reason === 'token-expired')?.value).toBeGreaterThanOrEqual(1);
    // Its slot is free again: the subject may hold N streams with a new token.
    const fresh = await h.token(['soc'], 'sse-short');
    const streams = await Promise.all(Array.from({ length: PER_SUBJECT }, () => open('/v1/changes/stream', fresh)));
    expect(streams.map((x) => x.status)).toEqual(Array<number>(PER_SUBJECT).fill(200));
    for (const x of streams) x.close();
  });

  it('refuses to open a stream with a token past its exp that the clock tolerance still accepts elsewhere', async () => {
    const late = await h.token(['soc'], 'sse-late', { expiresInSec: -5 });
    expect((await h.api('GET', '/v1/alerts?limit=1', late)).status).toBe(200);
    const s = await open('/v1/alerts/stream', late);
    expect(s.status).toBe(401);
    expect(JSON.parse(s.body)).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
