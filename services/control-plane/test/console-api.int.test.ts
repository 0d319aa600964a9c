import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityEvent, type LivescopeEventInput } from '@livescope/contracts';
import { waitFor } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './support/harness.js';
import { readEvents, type SseEvent } from './support/readEvents.js';

/**
 * The API the web console needs, over the real pipeline: identities paged and filtered, the fleet
 * summary, the fleet-wide change feed and its stream resumed with Last-Event-ID, acknowledging
 * alerts (and the acknowledgement reaching alert streams), and the console's own routes.
 */
const consoleDir = mkdtempSync(join(tmpdir(), 'livescope-console-'));
mkdirSync(join(consoleDir, 'assets'));
writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>livescope</title>');
writeFileSync(join(consoleDir, 'assets', 'app-1a2b3c.js'), 'console.log(1)');

const h = new Harness({ env: { LIVESCOPE_CONSOLE_DIR: consoleDir, LIVESCOPE_API_SSE_POLL_MS: '200' } });
const T = Date.now();
let soc: string;
const ids: string[] = [];
const kinds = ['agent', 'workload'] as const;

const identity = (id: string, i: number): LivescopeEventInput[] => [
  identityEvent('identity.created', id, { kind: kinds[i % 2]!, name: id, namespace: i % 3 === 0 ? 'payments' : 'support', owner: 'team' }, { id: `${id}/c`, time: T }),
  identityEvent('entitlement.granted', id, { grantId: `${id}/g`, role: 'reader', permissions: Array.from({ length: 1 + (i % 4) }, (_, k) => ({ action: 'db:read', resource: `db/t${k}`, access: 'read' as const })) }, { id: `${id}/g`, time: T }),
];

/** An open event stream, collecting what it receives. */
function follow(path: string, token: string, lastEventId?: string): { events: SseEvent[]; close: () => void; done: Promise<void> } {
  const ctl = new AbortController();
  const events: SseEvent[] = [];
  const done = (async () => {
    const res = await fetch(`${h.cp.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: ctl.signal });
    expect(res.status).toBe(200);
    for await (const e of readEvents(res.body!, ctl.signal)) events.push(e);
  })().catch((e: unknown) => {
    if (!ctl.signal.aborted) throw e;
  });
  return { events, close: () => ctl.abort(), done };
}

beforeAll(async () => {
  await h.open();
  soc = await h.token(['soc'], 'sam');
  for (let i = 0; i < 25; i++) ids.push(`fleet-${String(i).padStart(2, '0')}-${h.fx.id}`);
  await h.publish(ids.flatMap(identity));
  await waitFor('the fleet in the state of record', async () => ((await h.api('GET', '/v1/identities?limit=1', soc)).json as { total: number }).total === 25, 30_000);
});

afterAll(async () => {
  await h.close();
});

describe('identities', () => {
  it('pages through the fleet in id order with a cursor, and counts on the first page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r = await h.api('GET', `/v1/identities?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, soc);
      expect(r.status).toBe(200);
      const body = r.json as { identities: { identityId: string; scopeSize: number; kind: string; namespace: string; status: string }[]; nextCursor: string | null; total: number | null };
      expect(body.total).toBe(page === 0 ? 25 : null);
      seen.push(...body.identities.map((i) => i.identityId));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids].sort());
    const one = (await h.api('GET', `/v1/identities?q=${encodeURIComponent(`FLEET-03-${h.fx.id}`)}`, soc)).json as { identities: { identityId: string; scopeSize: number; kind: string; namespace: string; status: string }[]; total: number };
    expect(one.total).toBe(1);
    expect(one.identities[0]).toMatchObject({ identityId: ids[3], scopeSize: 4, kind: 'workload', namespace: 'payments', status: 'active' });
  });

  it('filters by kind, namespace and status on the server', async () => {
    const count = async (q: string): Promise<number> => ((await h.api('GET', `/v1/identities?${q}`, soc)).json as { total: number }).total;
    expect(await count('kind=agent')).toBe(13);
    expect(await count('namespace=payments')).toBe(9);
    expect(await count('namespace=payments&kind=workload')).toBe(4);
    expect(await count('status=deleted')).toBe(0);
    expect((await h.api('GET', '/v1/identities?kind=robot', soc)).status).toBe(400);
  });
});

describe('the fleet summary', () => {
  it('counts identities by status, kind and namespace, sizes scopes, and charts changes per minute', async () => {
    const r = await h.api('GET', '/v1/fleet', soc);
    expect(r.status).toBe(200);
    const f = r.json as { identities: number; byKind: Record<string, number>; byNamespace: Record<string, number>; permissionsInScope: number; scopeSizes: { label: string; identities: number }[]; activity: { bucketMs: number; buckets: { widening: number }[] } };
    expect(f.identities).toBe(25);
    expect(f.byKind).toEqual({ agent: 13, workload: 12 });
    expect(f.byNamespace).toEqual({ payments: 9, support: 16 });
    expect(f.scopeSizes.reduce((n, b) => n + b.identities, 0)).toBe(25);
    expect(f.permissionsInScope).toBe(ids.reduce((n, _, i) => n + 1 + (i % 4), 0));
    expect(f.activity.bucketMs).toBe(60_000);
    expect(f.activity.buckets).toHaveLength(60);
    await waitFor('the widenings counted', async () => ((await h.api('GET', '/v1/fleet', soc)).json as typeof f).activity.buckets.reduce((n, b) => n + b.widening, 0) >= 25, 10_000);
  });
});

describe('the change feed', () => {
  it('lists the newest changes with a cursor, and the stream follows on from it without a gap or a duplicate after a reconnect', async () => {
    type Changes = { items: { identityId: string; kind: string; direction: string; scopeSize: number; partition: number; seq: number }[]; position: string; nextCursor: string | null };
    const listed = (await h.api('GET', '/v1/changes?limit=5', soc)).json as Changes;
    expect(listed.items).toHaveLength(5);
    expect(listed.items[0]).toMatchObject({ kind: 'scope.change', direction: 'widening' });
    expect(listed.position).toMatch(/^\d+:\d+(,\d+:\d+)*$/);
    // Older pages follow the first one's position: every change once, in order, to a null nextCursor.
    const keys = listed.items.map((i) => `${i.partition}:${i.seq}`);
    let page = listed;
    for (let n = 0; page.nextCursor !== null && n < 20; n++) {
      page = (await h.api('GET', `/v1/changes?limit=5&cursor=${encodeURIComponent(page.nextCursor)}`, soc)).json as Changes;
      expect(page.position).toBe(listed.position);
      keys.push(...page.items.map((i) => `${i.partition}:${i.seq}`));
    }
    expect(page.nextCursor).toBeNull();
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeGreaterThanOrEqual(ids.length);
    const forged = await h.api('GET', '/v1/changes?cursor=bm9wZQ', soc);
    expect(forged).toMatchObject({ status: 400, json: { code: 'INVALID_REQUEST', paths: ['query.cursor'] } });

    const target = ids[0]!;
    const first = follow('/v1/changes/stream', soc, listed.position);
    const bump = (n: number): Promise<void> => h.publish([identityEvent('entitlement.granted', target, { grantId: `${target}/extra${n}`, role: `extra${n}`, permissions: [{ action: 'db:write', resource: `db/x${n}`, access: 'write' }] }, { id: `${target}/extra${n}`, time: T })]);
    await bump(1);
    await waitFor('the first change on the stream', () => first.events.some((e) => e.event === 'scope.change'), 15_000);
    const e1 = first.events.find((e) => e.event === 'scope.change')!;
    expect(JSON.parse(e1.data)).toMatchObject({ identityId: target, kind: 'scope.change', direction: 'widening', scopeSize: 2, added: [{ action: 'db:write', resource: 'db/x1' }] });
    expect(e1.id).toMatch(/^\d+:\d+(,\d+:\d+)*$/);
    first.close();
    await first.done;

    // While nobody listens, two more changes; the reconnect gets exactly those.
    await bump(2);
    await bump(3);
    const second = follow('/v1/changes/stream', soc, e1.id);
    await waitFor('both changes after the reconnect', () => second.events.filter((e) => e.event === 'scope.change').length >= 2, 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const after = second.events.filter((e) => e.event === 'scope.change').map((e) => (JSON.parse(e.data) as { added: { resource: string }[] }).added[0]!.resource);
    expect(after).toEqual(['db/x2', 'db/x3']);
    second.close();
    await second.done;
  });

  it('follows one identity only, from now on', async () => {
    const target = ids[1]!;
    const s = follow(`/v1/changes/stream?identity=${encodeURIComponent(target)}`, soc);
    await new Promise((r) => setTimeout(r, 300));
    await h.publish([
      identityEvent('entitlement.granted', ids[2]!, { grantId: 'other', role: 'other', permissions: [{ action: 'db:write', resource: 'db/other', access: 'write' }] }, { id: `${ids[2]}/other`, time: T }),
      identityEvent('identity.deleted', target, { reason: 'offboarded' }, { id: `${target}/deleted`, time: T }),
    ]);
    await waitFor('the deletion on the stream', () => s.events.some((e) => e.event === 'scope.change'), 15_000);
    const changes = s.events.filter((e) => e.event === 'scope.change' || e.event === 'revocation').map((e) => JSON.parse(e.data) as { identityId: string; status: string; direction: string; scopeSize: number });
    expect(changes.every((c) => c.identityId === target)).toBe(true);
    expect(changes[0]).toMatchObject({ status: 'deleted', direction: 'narrowing', scopeSize: 0 });
    s.close();
    await s.done;
  });
});

describe('alert acknowledgement', () => {
  it('records who acknowledged an alert, refuses a second acknowledgement, filters by it, and tells open streams', async () => {
    const target = ids[4]!;
    const stream = follow('/v1/alerts/stream', soc);
    await h.publish([identityEvent('telemetry.token-replay-detected', target, { tokenId: 'tok-1', evidence: 'same jti from two hosts' }, { id: `${target}/replay`, time: T })]);
    await waitFor('the alert on the stream', () => stream.events.some((e) => e.event === 'drift.alert'), 20_000);
    const alert = JSON.parse(stream.events.find((e) => e.event === 'drift.alert')!.data) as { id: string; type: string; acknowledgement: unknown };
    expect(alert).toMatchObject({ type: 'token-replay', acknowledgement: null });

    const unacked = (await h.api('GET', `/v1/alerts?identity=${target}&acknowledged=false`, soc)).json as { alerts: { id: string }[] };
    expect(unacked.alerts.map((a) => a.id)).toEqual([alert.id]);
    const ack = await h.api('POST', `/v1/alerts/${alert.id}/ack`, soc, { note: 'INC-7: expected, key rotated' });
    expect(ack).toMatchObject({ status: 200, json: { id: alert.id, by: 'sam', note: 'INC-7: expected, key rotated' } });
    const again = await h.api('POST', `/v1/alerts/${alert.id}/ack`, await h.token(['responder'], 'alice'), {});
    expect(again).toMatchObject({ status: 409, json: { code: 'CONFLICT' } });
    expect((again.json as { detail: string }).detail).toMatch(/already acknowledged by sam/);
    expect(((await h.api('GET', `/v1/alerts?identity=${target}&acknowledged=false`, soc)).json as { alerts: unknown[] }).alerts).toEqual([]);
    const listed = (await h.api('GET', `/v1/alerts?identity=${target}&acknowledged=true`, soc)).json as { alerts: { acknowledgement: { by: string } }[] };
    expect(listed.alerts[0]!.acknowledgement).toMatchObject({ by: 'sam' });

    await waitFor('the acknowledgement on the stream', () => stream.events.some((e) => e.event === 'alert.acknowledged'), 10_000);
    const told = stream.events.find((e) => e.event === 'alert.acknowledged')!;
    expect(told.id).toBe(stream.events.find((e) => e.event === 'drift.alert')!.id);
    expect(JSON.parse(told.data)).toMatchObject({ id: alert.id, by: 'sam' });
    stream.close();
    await stream.done;
  });
});

describe('the console routes', () => {
  it('redirects / to the console, serves its page for client routes and its hashed assets for good, with a strict CSP', async () => {
    const home = await fetch(`${h.cp.url}/`, { redirect: 'manual' });
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toBe('/console/');
    const page = await fetch(`${h.cp.url}/console/identities/some-id`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('<title>livescope</title>');
    const asset = await fetch(`${h.cp.url}/console/assets/app-1a2b3c.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${h.cp.url}/console/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${h.cp.url}/console/..%2f..%2fpackage.json`)).status).toBe(404);
  });
});
