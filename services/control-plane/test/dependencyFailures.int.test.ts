import { Writable } from 'node:stream';
import { testEnv, waitFor } from '@livescope/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../src/ControlPlane.js';
import { Harness } from './support/harness.js';
import { TcpProxy } from './support/TcpProxy.js';

/**
 * What a control plane answers when a dependency goes away: /readyz and every 5xx name the component
 * and `unavailable`, never the dependency's error (hosts, ports, SQL, driver messages), which is
 * logged whole under the correlation id the answer carries. A second control plane reaches
 * PostgreSQL and the schema registry through TCP relays this test cuts; the shared servers keep
 * running. (Kafka clients connect to the brokers' advertised addresses, which a relay cannot cut:
 * an unreachable Kafka is covered by OperationsService.unit.test.ts.)
 */
const h = new Harness();
const lines: string[] = [];
const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
let pg: TcpProxy;
let registry: TcpProxy;
let cp: ControlPlane;

/** The same URL with its host and port replaced by the relay's. */
const through = (url: string, proxy: TcpProxy): string => {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString().replace(/\/$/, '');
};

beforeAll(async () => {
  await h.open();
  const pgTarget = new URL(testEnv.pgUrl);
  const registryTarget = new URL(testEnv.registryUrl);
  pg = await new TcpProxy(pgTarget.hostname, Number(pgTarget.port || 5432)).start();
  registry = await new TcpProxy(registryTarget.hostname, Number(registryTarget.port || 80)).start();
  cp = await h.startControlPlane({ LIVESCOPE_PG_URL: through(testEnv.pgUrl, pg), LIVESCOPE_REGISTRY_URL: through(testEnv.registryUrl, registry), LIVESCOPE_API_GROUP_ID: `${h.fx.groupId}-cp2` }, logger);
});

afterAll(async () => {
  await cp?.stop();
  await pg?.cut();
  await registry?.cut();
  await h.close();
});

interface Answer {
  readonly status: number;
  readonly requestId: string | null;
  readonly text: string;
  readonly json: { ready?: boolean; checks?: Record<string, string>; correlationId?: string; code?: string; detail?: string; component?: string } & Record<string, unknown>;
}

async function call(method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${cp.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, requestId: res.headers.get('x-request-id'), text, json: JSON.parse(text) as Answer['json'] };
}

/** Nothing an operator would call internal: relay ports, hosts, driver and network errors, SQL. */
function expectNoInternals(a: Answer): void {
  for (const leak of ['ECONNREFUSED', 'ECONNRESET', '127.0.0.1', String(pg.port), String(registry.port), 'postgres://', 'Connection terminated', 'SELECT', 'timeout exceeded']) expect(a.text, `${a.text} shows ${leak}`).not.toContain(leak);
}

/** The log lines of one request (by its correlation id) that carry an error. */
const loggedErrors = (correlationId: string): { err: { message: string; type: string }; dependency?: string; component?: string }[] =>
  lines.map((l) => JSON.parse(l) as { reqId?: string; err?: { message: string; type: string }; dependency?: string; component?: string }).filter((l): l is { reqId: string; err: { message: string; type: string } } => l.reqId === correlationId && l.err !== undefined);

describe('dependency failures', () => {
  it('is ready while PostgreSQL and the registry answer through the relays', async () => {
    const r = await call('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ready: true, checks: { kafka: 'ok', registry: 'ok', postgres: 'ok', consumers: 'ok' } });
  });

  it('names PostgreSQL unavailable on /readyz and in 5xx answers, and logs its error under the correlation id', async () => {
    await pg.cut();
    let r: Answer | undefined;
    await waitFor(
      '/readyz of the control plane whose PostgreSQL relay is cut to say so',
      async () => {
        r = await call('GET', '/readyz');
        return r.status === 503 && r.json.checks?.postgres === 'unavailable';
      },
      30_000,
      200,
    );
    const ready = r!;
    expect(ready.json).toMatchObject({ ready: false, checks: { kafka: 'ok', registry: 'ok', postgres: 'unavailable' }, correlationId: ready.requestId });
    expect(['ok', 'unavailable']).toContain(ready.json.checks!.consumers);
    expectNoInternals(ready);
    expect(loggedErrors(ready.requestId!)).toContainEqual(expect.objectContaining({ dependency: 'postgres', err: expect.objectContaining({ message: expect.stringMatching(/ECONNREFUSED|connect|terminated/i) as unknown }) as unknown }));

    const soc = await h.token(['soc'], 'sam');
    const list = await call('GET', '/v1/orders', soc);
    expect(list.status).toBe(503);
    expect(list.json).toEqual({ type: 'urn:livescope:problem:unavailable', title: 'Service unavailable', status: 503, instance: `urn:uuid:${list.requestId}`, code: 'UNAVAILABLE', detail: 'PostgreSQL unavailable; retry later', component: 'postgres', correlationId: list.requestId });
    expectNoInternals(list);
    expect(loggedErrors(list.requestId!)).toContainEqual(expect.objectContaining({ component: 'postgres', err: expect.objectContaining({ type: 'ControlPlaneError', message: expect.stringMatching(/ECONNREFUSED|connect|terminated/i) as unknown }) as unknown }));

    const issue = await call('POST', '/v1/orders', await h.token(['responder'], 'alice'), { kind: 'read-only', target: { identityId: 'nobody' }, reason: 'dependency failures' });
    expect(issue.status).toBe(503);
    expect(issue.json).toMatchObject({ code: 'UNAVAILABLE', component: 'postgres', correlationId: issue.requestId });
    expectNoInternals(issue);
  });

  it('names the schema registry unavailable on /readyz, not its error', async () => {
    await registry.cut();
    let r: Answer | undefined;
    await waitFor(
      '/readyz of the control plane whose registry relay is cut to say so',
      async () => {
        r = await call('GET', '/readyz');
        return r.json.checks?.registry === 'unavailable';
      },
      30_000,
      200,
    );
    expect(r!.status).toBe(503);
    expect(r!.json.checks).toMatchObject({ kafka: 'ok', registry: 'unavailable', postgres: 'unavailable' });
    expectNoInternals(r!);
    expect(loggedErrors(r!.requestId!).map((l) => l.dependency)).toEqual(expect.arrayContaining(['registry', 'postgres']));
  });
});
