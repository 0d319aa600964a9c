import { describe, expect, it } from 'vitest';
import { runCli } from './runCli.js';

interface Call {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly body: string | undefined;
}

/** A fake control plane at http://api.test: answers each request with `answer(call)` and records it. */
function api(answer: (c: Call) => Response) {
  const calls: Call[] = [];
  const fetchImpl = ((url: string, init: RequestInit) => {
    const c = { method: init.method ?? 'GET', url: new URL(url), headers: new Headers(init.headers), body: init.body as string | undefined };
    calls.push(c);
    return Promise.resolve(answer(c));
  }) as typeof fetch;
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: { LIVESCOPE_API_URL: 'http://api.test', LIVESCOPE_TOKEN: 't0k' }, fetch: fetchImpl });
    return { code, stdout: out.join(''), stderr: err.join('') };
  };
  return { calls, run };
}
const json = (body: unknown, status = 200): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const sse = (text: string): Response => new Response(new Blob([text]).stream(), { status: 200, headers: { 'content-type': 'text/event-stream' } });

const identity = { identityId: 'w-1', kind: 'workload', name: 'payments', namespace: 'payments', owner: 'team-a', status: 'active', version: 7, scopeSize: 3, sessions: 1, riskScore: 0, partition: 2, updatedAt: '2026-01-01T00:00:00.000Z' };
const change = { at: '2026-01-01T00:00:00.000Z', kind: 'scope.change', version: 8, actor: 'alice', eventId: 'e-1', summary: 'narrowed to read-only', cause: null, direction: 'narrowing', added: [], removed: [], revocation: null, alert: null, scopeSize: 1, status: 'active', partition: 2, seq: 11, identityId: 'w-1' };

describe('livescope fleet commands (against a fake API)', () => {
  it('identities: passes the filters and the page cursor, prints a table and the next cursor', async () => {
    const a = api(() => json({ identities: [identity], nextCursor: 'w-1', total: 12 }));
    const r = await a.run('identities', '--search', 'pay', '--kind', 'workload', '--status', 'active', '--namespace', 'payments', '--limit', '1', '--cursor', 'w-0');
    expect(r.code).toBe(0);
    expect(a.calls[0]!.url.pathname).toBe('/v1/identities');
    expect(Object.fromEntries(a.calls[0]!.url.searchParams)).toEqual({ limit: '1', cursor: 'w-0', q: 'pay', kind: 'workload', namespace: 'payments', status: 'active' });
    expect(a.calls[0]!.headers.get('authorization')).toBe('Bearer t0k');
    expect(r.stdout).toMatch(/^12 identities match\nIDENTITY +KIND/);
    expect(r.stdout).toMatch(/^w-1 +workload +payments +team-a +active +v7 +3 +1 +0 /m);
    expect(r.stdout).toContain('more: --cursor w-1');
  });

  it('identities: refuses a kind it does not know and a bad limit before calling the API', async () => {
    const a = api(() => json({}));
    expect((await a.run('identities', '--kind', 'robot')).code).toBe(2);
    expect((await a.run('identities', '--limit', '0')).code).toBe(2);
    expect(a.calls).toHaveLength(0);
  });

  it('fleet: prints the summary, or the answer itself under --json', async () => {
    const summary = { at: '2026-01-01T00:00:00.000Z', identities: 2, byStatus: { active: 2 }, byKind: { workload: 1, agent: 1 }, byNamespace: { payments: 2 }, permissionsInScope: 9, openSessions: 1, scopeSizes: [{ label: '1-10', min: 1, max: 10, identities: 2 }], ordersInForce: 1, enforcers: { known: 1, total: 2 }, alerts: { unacknowledged: 3 }, activity: { bucketMs: 60_000, buckets: [{ at: '2026-01-01T00:00:00.000Z', narrowing: 2, widening: 1, mixed: 0, refresh: 0, revocation: 1 }] } };
    const a = api(() => json(summary));
    const r = await a.run('fleet');
    expect(r.stdout).toContain('2 identities, 9 permissions in scope, 1 open sessions');
    expect(r.stdout).toContain('by kind:      agent 1, workload 1');
    expect(r.stdout).toContain('2 narrowing, 1 widening, 0 mixed changes, 1 revocations');
    const j = await a.run('--json', 'fleet');
    expect(JSON.parse(j.stdout)).toEqual(summary);
  });

  it('changes: lists the newest; --follow streams them, resuming from --since and skipping position markers', async () => {
    const a = api((c) => (c.url.pathname === '/v1/changes' ? json({ items: [change], position: '2:11', nextCursor: null }) : sse(`event: position\nid: 2:10\ndata: {}\n\nid: 2:11\nevent: scope.change\ndata: ${JSON.stringify(change)}\n\n: keep-alive\n\n`)));
    const l = await a.run('changes', '--kinds', 'scope.change', '--limit', '5');
    expect(l.code).toBe(0);
    expect(Object.fromEntries(a.calls[0]!.url.searchParams)).toEqual({ limit: '5', kinds: 'scope.change' });
    expect(l.stdout).toMatch(/w-1 +v8 +scope\.change +narrowing +alice +narrowed to read-only/);
    const f = await a.run('--json', 'changes', '--follow', '--since', '2:9', '--identity', 'w-1', '--max', '1');
    expect(f.code).toBe(0);
    const stream = a.calls[1]!;
    expect(stream.url.pathname).toBe('/v1/changes/stream');
    expect(stream.headers.get('last-event-id')).toBe('2:9');
    expect(stream.headers.get('accept')).toBe('text/event-stream');
    expect(stream.url.searchParams.get('identity')).toBe('w-1');
    expect(f.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([change]);
    expect((await a.run('changes', '--since', '2:9')).code).toBe(2);
  });

  it('me: prints the subject, roles and what they allow', async () => {
    const a = api(() => json({ sub: 'alice', roles: ['responder'], can: { read: true, readAlerts: false, acknowledgeAlerts: false, issueOrders: true, liftOwnOrders: true, liftAnyOrder: false, grantApprovals: false } }));
    const r = await a.run('me');
    expect(r.stdout).toBe('alice, roles responder\n  may: read, issueOrders, liftOwnOrders\n');
  });

  it('revoke-approval and alerts ack: POST to the right resource', async () => {
    const a = api((c) => (c.url.pathname.endsWith('/revoke') ? json({ approvalId: 'ap 1', eventId: 'cp-9', identityId: 'w/1', acceptedAt: '2026-01-01T00:00:00.000Z' }, 202) : json({ id: '1', alertId: 'al-1', by: 'bob', at: '2026-01-01T00:00:00.000Z', note: 'false positive' })));
    const r = await a.run('revoke-approval', 'w/1', 'ap 1');
    expect(r.code).toBe(0);
    expect(a.calls[0]!.method).toBe('POST');
    expect(a.calls[0]!.url.pathname).toBe('/v1/identities/w%2F1/approvals/ap%201/revoke');
    expect(r.stdout).toBe('approval ap 1 of w/1 withdrawn (event cp-9)\n');
    const k = await a.run('alerts', 'ack', '1', '--note', 'false positive');
    expect(a.calls[1]!.url.pathname).toBe('/v1/alerts/1/ack');
    expect(JSON.parse(a.calls[1]!.body!)).toEqual({ note: 'false positive' });
    expect(k.stdout).toBe('alert al-1 acknowledged by bob at 2026-01-01T00:00:00.000Z: false positive\n');
  });

  it('policy requests / request: list with a status filter, and one', async () => {
    const p = { requestId: 'pr-1', status: 'pending', hash: 'sha256:0123456789abcdef0123', version: null, eventId: null, requestedBy: 'alice', requestedAt: '2026-01-01T00:00:00.000Z', approvedBy: null, decidedAt: null, rollbackOf: null, reason: 'tighten', files: 2 };
    const a = api((c) => (c.url.pathname === '/v1/policies/requests' ? json({ requests: [p] }) : json(p)));
    const l = await a.run('policy', 'requests', '--status', 'pending');
    expect(a.calls[0]!.url.search).toBe('?status=pending');
    expect(l.stdout).toMatch(/^pr-1 +pending +- +.* alice +- +2 +0123456789ab +tighten$/m);
    const one = await a.run('policy', 'request', 'pr-1');
    expect(a.calls[1]!.url.pathname).toBe('/v1/policies/requests/pr-1');
    expect(one.stdout).toContain('livescope policy approve pr-1');
  });
});

describe('livescope --json failures', () => {
  const failure = (stderr: string): unknown => (JSON.parse(stderr) as { error: unknown }).error;

  it('prints one JSON line on stderr for a usage error, commander\'s own included, and no help text', async () => {
    const a = api(() => json({}));
    const unknown = await a.run('--json', 'frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(failure(unknown.stderr)).toEqual({ code: 'commander.unknownCommand', message: "unknown command 'frobnicate'", exitCode: 2 });
    const missing = await a.run('--json', 'quarantine', 'w1');
    expect(failure(missing.stderr)).toEqual({ code: 'commander.missingMandatoryOptionValue', message: "required option '--reason <text>' not specified", exitCode: 2 });
    const target = await a.run('--json', 'narrow', '--reason', 'x');
    expect(failure(target.stderr)).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect(a.calls).toHaveLength(0);
  });

  it('carries the API\'s code, status and refused fields, and the exit code', async () => {
    const a = api((c) => (c.url.pathname === '/v1/me' ? json({ type: 'urn:livescope:problem:FORBIDDEN', title: 'Forbidden', status: 403, detail: 'needs role soc', code: 'FORBIDDEN' }, 403) : json({ type: 'urn:livescope:problem:INVALID_REQUEST', title: 'Bad Request', status: 400, detail: 'bad request', code: 'INVALID_REQUEST', paths: ['ttlSeconds'] }, 400)));
    const denied = await a.run('--json', 'me');
    expect(denied.code).toBe(3);
    expect(failure(denied.stderr)).toEqual({ code: 'FORBIDDEN', message: 'needs role soc', exitCode: 3, status: 403 });
    const bad = await a.run('quarantine', 'w1', '--reason', 'x', '--json');
    expect(bad.code).toBe(2);
    expect(failure(bad.stderr)).toEqual({ code: 'INVALID_REQUEST', message: 'bad request', exitCode: 2, status: 400, paths: ['ttlSeconds'] });
  });

  it('reads RFC 9457 problem details as well as the livescope error body', async () => {
    const a = api(() => new Response(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'no identity w9', code: 'NOT_FOUND' }), { status: 404, headers: { 'content-type': 'application/problem+json' } }));
    const r = await a.run('--json', 'scope', 'w9');
    expect(r.code).toBe(1);
    expect(failure(r.stderr)).toEqual({ code: 'NOT_FOUND', message: 'no identity w9', exitCode: 1, status: 404 });
  });

  it('without --json, prints the failure as text', async () => {
    const a = api(() => json({ type: 'urn:livescope:problem:FORBIDDEN', title: 'Forbidden', status: 403, detail: 'needs role soc', code: 'FORBIDDEN' }, 403));
    const r = await a.run('me');
    expect(r.stderr).toBe('livescope: needs role soc\n');
  });
});
