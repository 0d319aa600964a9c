import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@livescope/testkit';
import { ClientAt, type ClientAnswer } from './support/ClientAt.js';
import { Harness } from './support/harness.js';

/**
 * The rate limits over a running control plane, each client speaking from its own loopback
 * address: requests without an accepted token are limited per address before any signature is
 * checked, accepted ones per token subject wherever they come from, and the open routes have a
 * budget of their own so that a flood of refused tokens never starves the probes.
 */
const UNAUTHENTICATED_PER_MINUTE = 20;
const SUBJECT_PER_MINUTE = 30;
const PUBLIC_PER_MINUTE = 50;
const h = new Harness({
  rateLimitPerMinute: SUBJECT_PER_MINUTE,
  env: { LIVESCOPE_API_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: String(UNAUTHENTICATED_PER_MINUTE), LIVESCOPE_API_RATE_LIMIT_PUBLIC_PER_MINUTE: String(PUBLIC_PER_MINUTE) },
});
const clients: ClientAt[] = [];
const from = (address: string, maxSockets = 1): ClientAt => {
  const c = new ClientAt(address, maxSockets);
  clients.push(c);
  return c;
};
/** A token of the trusted issuer's form, signed with another key: only its signature check can refuse it. */
let forged: string;

beforeAll(async () => {
  await h.open();
  forged = await h.token(['admin'], 'mallory', { key: h.strangerKey.privateKey });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await h.close();
});

const refusedChecks = async (): Promise<number> => (await h.cp.metrics.tokenChecks.get()).values.find((v) => v.labels.outcome === 'refused')?.value ?? 0;
/** Requests the unauthenticated budget may let through over `ms` beyond the burst: what it earns back meanwhile. */
const earnedBack = (ms: number): number => Math.floor((ms * UNAUTHENTICATED_PER_MINUTE) / 60_000) + 1;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

describe('rate limits', () => {
  it('answers 1,000 forged tokens from one address with 429 after its budget, without checking their signatures', async () => {
    const c = from('127.0.0.2');
    const before = await refusedChecks();
    const started = Date.now();
    const answers: ClientAnswer[] = [];
    for (let i = 0; i < 1000; i++) answers.push(await c.request(h.cp.url, 'GET', '/v1/orders', { authorization: `Bearer ${forged}` }));
    const elapsedMs = Date.now() - started;
    const checks = (await refusedChecks()) - before;
    const firstLimited = answers.findIndex((a) => a.status === 429);
    const verified = answers.filter((a) => a.status === 401);
    const limited = answers.filter((a) => a.status === 429);
    console.log(
      `[rate-limit] 1000 forged tokens from 127.0.0.2 in ${elapsedMs} ms: first 429 at request ${firstLimited + 1}; ${verified.length} × 401 (signature checked, mean ${mean(verified.map((a) => a.ms)).toFixed(2)} ms), ` +
        `${limited.length} × 429 (not checked, mean ${mean(limited.map((a) => a.ms)).toFixed(2)} ms, p99 ${quantile(limited.map((a) => a.ms), 0.99).toFixed(2)} ms); token checks counted: ${checks}`,
    );
    expect(answers.slice(0, UNAUTHENTICATED_PER_MINUTE).map((a) => a.status)).toEqual(Array<number>(UNAUTHENTICATED_PER_MINUTE).fill(401));
    expect(firstLimited).toBe(UNAUTHENTICATED_PER_MINUTE);
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    // Every 401 is one signature check, and nothing else was checked: the 429s never reached the verifier.
    expect(checks).toBe(verified.length);
    expect(verified.length).toBeLessThanOrEqual(UNAUTHENTICATED_PER_MINUTE + earnedBack(elapsedMs));
    expect(limited.length).toBeGreaterThanOrEqual(1000 - UNAUTHENTICATED_PER_MINUTE - earnedBack(elapsedMs));
    for (const a of limited) expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited[0]!.body)).toMatchObject({ code: 'RATE_LIMITED' });
    // Fast: a refusal costs no more than a few milliseconds even on a busy machine.
    expect(mean(limited.map((a) => a.ms))).toBeLessThan(50);
  });

  it('holds under concurrency: 1,000 forged tokens 50 at a time are checked at most the budget', async () => {
    const c = from('127.0.0.3', 50);
    const before = await refusedChecks();
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => c.request(h.cp.url, 'GET', '/v1/orders', { authorization: `Bearer ${forged}` })));
      statuses.push(...batch.map((a) => a.status));
    }
    const checks = (await refusedChecks()) - before;
    console.log(`[rate-limit] 1000 forged tokens from 127.0.0.3, 50 concurrent, in ${Date.now() - started} ms: ${statuses.filter((s) => s === 401).length} × 401, ${statuses.filter((s) => s === 429).length} × 429; token checks counted: ${checks}`);
    expect(checks).toBe(statuses.filter((s) => s === 401).length);
    expect(checks).toBeLessThanOrEqual(UNAUTHENTICATED_PER_MINUTE + earnedBack(Date.now() - started));
  });

  it('does not charge accepted tokens to their address', async () => {
    const c = from('127.0.0.4');
    const token = await h.token(['soc'], 'kim');
    const statuses: number[] = [];
    for (let i = 0; i < UNAUTHENTICATED_PER_MINUTE + 5; i++) statuses.push((await c.request(h.cp.url, 'GET', '/v1/orders', { authorization: `Bearer ${token}` })).status);
    expect(statuses).toEqual(Array<number>(UNAUTHENTICATED_PER_MINUTE + 5).fill(200));
  });

  it('limits a token subject wherever its requests come from, and only that subject', async () => {
    const addresses = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'].map((a) => from(a));
    const sam = await h.token(['soc'], 'sam');
    const answers: ClientAnswer[] = [];
    for (let i = 0; i < SUBJECT_PER_MINUTE + 1; i++) answers.push(await addresses[i % addresses.length]!.request(h.cp.url, 'GET', '/v1/orders', { authorization: `Bearer ${sam}` }));
    const first429 = answers.findIndex((a) => a.status === 429);
    expect(first429).toBeGreaterThanOrEqual(SUBJECT_PER_MINUTE);
    // The budget earns back half a request per second: at most one more in a run this short.
    expect(first429).toBeLessThanOrEqual(SUBJECT_PER_MINUTE + 1);
    const limited = await addresses[0]!.request(h.cp.url, 'GET', '/v1/orders', { authorization: `Bearer ${sam}` });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['x-ratelimit-limit']).toBe(String(SUBJECT_PER_MINUTE));
    // Another subject from the same address is not limited.
    const other = await addresses[0]!.request(h.cp.url, 'GET', '/v1/orders', { authorization: `Bearer ${await h.token(['soc'], 'lee')}` });
    expect(other.status).toBe(200);
  });

  it('keeps the probes answering from an address whose unauthenticated budget is spent, and limits them on a budget of their own', async () => {
    const flooded = from('127.0.0.6');
    const unauthenticatedBefore = (await h.cp.metrics.rateLimited.get()).values.find((v) => v.labels.budget === 'unauthenticated')?.value ?? 0;
    let status = 0;
    for (let i = 0; i < UNAUTHENTICATED_PER_MINUTE + 5 && status !== 429; i++) status = (await flooded.request(h.cp.url, 'GET', '/v1/orders', { authorization: `Bearer ${forged}` })).status;
    expect(status).toBe(429);
    expect((await flooded.request(h.cp.url, 'GET', '/healthz')).status).toBe(200);
    // Readiness answers 503 while a dependency is slow to answer its probe (a loaded machine): what
    // matters here is that it is never 429 for the flooded address, so wait for the dependencies.
    await waitFor('/readyz to answer 200 to the flooded address', async () => {
      const r = await flooded.request(h.cp.url, 'GET', '/readyz');
      expect(r.status).not.toBe(429);
      return r.status === 200;
    }, 30_000, 250);
    const prober = from('127.0.0.5');
    const statuses: number[] = [];
    for (let i = 0; i < PUBLIC_PER_MINUTE + 1; i++) statuses.push((await prober.request(h.cp.url, 'GET', '/healthz')).status);
    expect(statuses.slice(0, PUBLIC_PER_MINUTE)).toEqual(Array<number>(PUBLIC_PER_MINUTE).fill(200));
    const limited = await prober.request(h.cp.url, 'GET', '/healthz');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const rateLimited = (await h.cp.metrics.rateLimited.get()).values;
    expect(rateLimited.find((v) => v.labels.budget === 'public')?.value).toBeGreaterThanOrEqual(1);
    expect(rateLimited.find((v) => v.labels.budget === 'unauthenticated')?.value).toBeGreaterThan(unauthenticatedBefore);
  });
});
