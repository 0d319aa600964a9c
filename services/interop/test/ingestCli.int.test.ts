import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeadLetter, LivescopeEventInput } from '@livescope/contracts';
import { PipelineFixture, testEnv, waitFor, type TopicTail } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FIXTURES = fileURLToPath(new URL('../../../packages/adapters/test/fixtures/', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/ingest/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

let fx: PipelineFixture;
let tail: TopicTail;

/** Runs `livescope-ingest` as a separate process, as a user would (tsx on the sources). */
function ingest(args: string[], stdinFile?: string, env: Record<string, string> = {}): { child: ChildProcess; stderr: () => string; stdout: () => string; done: Promise<{ code: number | null; stderr: string; stdout: string }> } {
  const child = spawn(TSX, ['--conditions=livescope-source', MAIN, ...args], {
    env: { ...process.env, LIVESCOPE_KAFKA_BROKERS: testEnv.brokers.join(','), LIVESCOPE_REGISTRY_URL: testEnv.registryUrl, LIVESCOPE_TOPIC_PREFIX: fx.prefix, LIVESCOPE_LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  if (stdinFile) createReadStream(stdinFile).pipe(child.stdin);
  else child.stdin.end();
  return { child, stderr: () => stderr, stdout: () => stdout, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr, stdout }))) };
}

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  tail = await fx.tail(['events', 'deadLetters']);
});
afterAll(async () => {
  await fx?.close();
});

describe('livescope-ingest over real Kafka and the registry', () => {
  it('reads a Vault audit file: events keyed by identity on the events topic, dead letters with the original bytes, progress on stderr', async () => {
    const run = ingest(['vault', `${FIXTURES}vault-audit/vault-guides-lab-audit-subset.jsonl`]);
    const { code, stderr } = await run.done;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('livescope-ingest vault: 20 records, 11 events, 2 dead letters, 2 skipped, 0 withheld, 0 replays detected');
    expect(stderr).toContain('skipped: human: 2');
    const events = await waitFor('11 events', () => {
      const e = tail.of<LivescopeEventInput & { subject: string }>(fx.topics.events).filter((m) => m.value.id.startsWith('vault:'));
      return e.length >= 11 ? e : undefined;
    });
    for (const m of events) expect(m.key).toBe(m.value.subject);
    expect(events.map((m) => m.value.id)).toContain('vault:86093ffd-00ec-4910-01de-0e24bb603551/session');
    const dead = await waitFor('2 dead letters', () => {
      const d = tail.of<DeadLetter>(fx.topics.deadLetters).filter((m) => m.value.source.topic === 'ingest:vault:file');
      return d.length >= 2 ? d.sort((a, b) => Number(a.value.source.offset) - Number(b.value.source.offset)) : undefined;
    });
    expect(dead.map((d) => [d.value.reason, d.value.source.partition, d.value.source.offset])).toEqual([
      ['unsupported', -1, '18'],
      ['unsupported', -1, '20'],
    ]);
    const original = JSON.parse(Buffer.from(dead[0]!.value.value, 'base64').toString('utf8')) as { request: { id: string } };
    expect(original.request.id).toBe('0b7cee96-5ac0-29bd-5397-0e715f2347a3');
  });

  it('reads CloudTrail from stdin, including a document that is not JSON, without stopping', async () => {
    const { code, stderr } = await ingest(['cloudtrail', '-'], `${FIXTURES}cloudtrail/awsdocs-iam-sts-assumerolewithwebidentity.as-published.txt`).done;
    expect(code, stderr).toBe(0);
    const dl = await waitFor('the not-json dead letter', () => tail.of<DeadLetter>(fx.topics.deadLetters).find((m) => m.value.source.topic === 'ingest:cloudtrail:stdin'));
    expect(dl.value.reason).toBe('not-json');
    expect(Buffer.from(dl.value.value, 'base64').toString()).toContain('AssumeRoleWithWebIdentity');
  });

  it('serves the webhook mode on loopback: a Kubernetes audit EventList POSTed with the bearer token becomes events', async () => {
    const run = ingest(['k8s', '--listen', '127.0.0.1:0'], undefined, { LIVESCOPE_INGEST_TOKEN: 'cli-webhook-token-0123456789' });
    const address = await waitFor('the listening address', () => /listening on (http:\/\/[^\s]+)\/ingest/.exec(run.stderr())?.[1], 20_000);
    const item = JSON.parse(await readFile(`${FIXTURES}k8s-audit/panther-partial-sa-secret-get-403.json`, 'utf8')) as Record<string, unknown>;
    const body = JSON.stringify({ kind: 'EventList', items: [{ ...item, auditID: 'int-403' }] });
    expect((await fetch(`${address}/ingest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
    const res = await fetch(`${address}/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer cli-webhook-token-0123456789' }, body });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ source: 'k8s', records: 1, events: 2, deadLetters: 0, skipped: 0, withheld: 0 });
    expect(await (await fetch(`${address}/metrics`)).text()).toContain('livescope_ingest_webhook_requests_total{outcome="unauthenticated"} 1');
    const denied = await waitFor('the out-of-scope evidence', () => tail.of<LivescopeEventInput>(fx.topics.events).find((m) => m.value.id === 'k8s:int-403/denied'));
    expect(denied.key).toBe('k8s:default/app-sa');
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
  });

  it('refuses to listen without webhook authentication', async () => {
    const { code, stderr } = await ingest(['k8s', '--listen', '127.0.0.1:0']).done;
    expect(code).toBe(2);
    expect(stderr).toContain('--listen requires authentication');
  });

  it('auto-detects all seven sources in one mixed stream (no source argument)', async () => {
    const first = (f: string) => JSON.stringify(JSON.parse(readFileSync(`${FIXTURES}${f}`, 'utf8').split('\n')[0]!));
    const whole = (f: string) => JSON.stringify(JSON.parse(readFileSync(`${FIXTURES}${f}`, 'utf8')));
    const mixed = [
      whole('vault-audit/vault-guides-governance-approle-write-example.json'),
      whole('k8s-audit/falco-create_serviceaccount.json'),
      whole('cloudtrail/awsdocs-iam-assumedrole-s3-deletebucket.json'),
      whole('github-actions-oidc/github-docs-oidc-token-claims.json'),
      whole('okta-system-log/panther-okta-system-api-token-create.json'),
      whole('gcp-audit/panther-iamcredentials-signjwt-granted.json'),
      first('entra/datadog-service-principal-sign-in-logs.jsonl'),
    ].join('\n');
    const file = join(mkdtempSync(join(tmpdir(), 'ingest-auto-')), 'mixed.jsonl');
    writeFileSync(file, `${mixed}\n`);
    const { code, stderr, stdout } = await ingest([file, '--dry-run']).done;
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind?: string; outcome?: string; source?: string });
    expect(lines.filter((l) => l.kind === 'record').map((l) => l.outcome)).toEqual(['mapped', 'mapped', 'mapped', 'mapped', 'mapped', 'mapped', 'mapped']);
    const sources = new Set(lines.filter((l) => l.kind === undefined).map((l) => l.source));
    expect([...sources].sort()).toEqual(['livescope-adapter/cloudtrail', 'livescope-adapter/entra', 'livescope-adapter/gcp-audit', 'livescope-adapter/github-oidc', 'livescope-adapter/k8s', 'livescope-adapter/okta', 'livescope-adapter/vault']);
    expect(stderr).toContain('livescope-ingest auto: 7 records');
  });

  it('signs what it publishes with a producer key; without one, withholds control events and says why', async () => {
    const revoke = `${FIXTURES}okta-system-log/panther-okta-system-api-token-revoke.json`;
    const unsigned = await ingest(['okta', revoke]).done;
    expect(unsigned.code, unsigned.stderr).toBe(0);
    expect(unsigned.stderr).toContain('withheld: needs a producer key allowed to send identity.deleted: 1');
    const signed = await ingest(['okta', revoke], undefined, { LIVESCOPE_PRODUCER_KEY_ID: fx.producerKeys.kid, LIVESCOPE_PRODUCER_KEY: fx.producerKeys.privateKey, LIVESCOPE_PRODUCER_EVENT_TYPES: 'identity.*' }).done;
    expect(signed.code, signed.stderr).toBe(0);
    const deleted = await waitFor('the signed identity.deleted', () => tail.of<LivescopeEventInput>(fx.topics.events).find((m) => m.value.type === 'identity.deleted' && m.value.source === 'livescope-adapter/okta'));
    expect(deleted.headers['livescope-producer-kid']?.toString()).toBe(fx.producerKeys.kid);
  });
});

