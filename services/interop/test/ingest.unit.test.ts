import { readFileSync } from 'node:fs';
import { adapterFor, autoAdapter, ReplayDetector, type HumanActivity } from '@livescope/adapters';
import type { LivescopeEventInput } from '@livescope/contracts';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { githubJwtVerifier } from '../src/ingest/githubJwtVerifier.js';
import { IngestMetrics } from '../src/ingest/IngestMetrics.js';
import { IngestPipeline } from '../src/ingest/IngestPipeline.js';
import type { IngestSink, RecordNote, RejectedRecord } from '../src/ingest/IngestSink.js';
import { ingestWebhook } from '../src/ingest/ingestWebhook.js';
import { PrintingSink } from '../src/ingest/KafkaIngestSink.js';
import { parseIngestArgs } from '../src/ingest/parseIngestArgs.js';
import { hmacSignature } from '../src/ingest/webhookAuth.js';
import { InteropError } from '../src/InteropError.js';
import { silentLogger } from './support.js';

const FIXTURES = new URL('../../../packages/adapters/test/fixtures/', import.meta.url);
const fixture = (p: string): string => readFileSync(new URL(p, FIXTURES), 'utf8');
const TOKEN = 'ingest-token-0123456789';
const bearer = { authorization: `Bearer ${TOKEN}` };

class MemorySink implements IngestSink {
  readonly batches: LivescopeEventInput[][] = [];
  readonly rejected: RejectedRecord[] = [];
  readonly noted: RecordNote[] = [];
  publish(events: readonly LivescopeEventInput[]): Promise<void> {
    this.batches.push([...events]);
    return Promise.resolve();
  }
  deadLetter(records: readonly RejectedRecord[]): Promise<void> {
    this.rejected.push(...records);
    return Promise.resolve();
  }
  notes(notes: readonly RecordNote[]): Promise<void> {
    this.noted.push(...notes);
    return Promise.resolve();
  }
}

function chunks(text: string, size: number): AsyncIterable<string> {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return (async function* () {
    for (const part of parts) yield await Promise.resolve(part);
  })();
}

/** A ClusterRoleBinding to a service account, as the API server audits it at level RequestResponse. */
const binding = JSON.stringify({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'RequestResponse',
  auditID: 'bind-1',
  stage: 'ResponseComplete',
  verb: 'create',
  user: { username: 'system:serviceaccount:argocd:argocd-application-controller', groups: ['system:serviceaccounts'] },
  objectRef: { resource: 'clusterrolebindings', name: 'ci-view', apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1' },
  responseStatus: { code: 201 },
  responseObject: { kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'ci-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'build' }] },
  stageTimestamp: '2026-02-01T10:00:00.000000Z',
});

describe('ingest pipeline', () => {
  it('streams a Vault audit file in small chunks: events in order and batches, dead letters with the original text, skips by code', async () => {
    const sink = new MemorySink();
    const p = new IngestPipeline(adapterFor('vault'), sink, { batchEvents: 4, now: () => '2026-01-01T00:00:00.000Z' });
    const stats = await p.consume(chunks(fixture('vault-audit/vault-guides-lab-audit-subset.jsonl'), 97));
    expect(stats).toEqual({ records: 20, events: 11, deadLetters: 2, skipped: 2, withheld: 0, replays: 0, humans: 2, reasons: { 'dead-letter: unsupported': 2, 'skipped: human': 2 } });
    expect(sink.batches.every((b) => b.length <= 4)).toBe(true);
    expect(sink.batches.flat().map((e) => e.type)).toEqual(['identity.created', 'session.started', 'telemetry.activity', 'identity.created', 'session.started', 'secret.accessed', 'secret.accessed', 'secret.accessed', 'identity.created', 'session.started', 'telemetry.activity']);
    expect(sink.rejected.map((r) => [r.reason, r.ordinal, (JSON.parse(r.raw) as { type: string }).type])).toEqual([
      ['unsupported', 18, 'response'],
      ['unsupported', 20, 'response'],
    ]);
    // Every record's outcome is noted (for --dry-run and metrics), skips with their code and field.
    expect(sink.noted.filter((n) => n.outcome === 'skipped').map((n) => [n.skip!.code, n.skip!.field])).toEqual([
      ['human', 'response.auth.display_name'],
      ['human', 'auth.display_name'],
    ]);
  });

  it('never stops on bad input: garbage, invalid documents and unknown types become dead letters', async () => {
    const sink = new MemorySink();
    const p = new IngestPipeline(adapterFor('cloudtrail'), sink);
    const text = [fixture('cloudtrail/awsdocs-iam-sts-assumerolewithsaml.as-published.txt'), '{"eventName": 3}', 'garbage line', fixture('cloudtrail/panther-sts-assumerole-expiredtoken.json')].join('\n');
    const stats = await p.consume(chunks(text, 1000));
    expect(stats.records).toBe(4);
    expect(sink.rejected.map((r) => r.reason)).toEqual(['not-json', 'schema-invalid', 'not-json']);
    expect(sink.batches.flat().map((e) => e.id)).toEqual(['aws:1111/identity-354c715abb9027d3', 'aws:1111/denied']);
  });

  it('without a producer key never publishes control events: a binding grant is withheld, counted and reported, not dead-lettered', async () => {
    const sink = new MemorySink();
    const metrics = new IngestMetrics('k8s');
    const stats = await new IngestPipeline(adapterFor('k8s'), sink, { onRecord: (n) => metrics.record(n) }).consume([binding]);
    expect(stats).toMatchObject({ records: 1, events: 2, withheld: 1, deadLetters: 0, reasons: { 'withheld: needs a producer key allowed to send entitlement.granted': 1 } });
    // The caller's activity (an observation) still goes out; the subject's announcement went with the grant.
    expect(sink.batches.flat().map((e) => [e.type, (e as { subject?: string }).subject])).toEqual([
      ['identity.created', 'k8s:argocd/argocd-application-controller'],
      ['telemetry.activity', 'k8s:argocd/argocd-application-controller'],
    ]);
    expect(sink.rejected).toEqual([]);
    expect(sink.noted).toEqual([{ ordinal: 1, outcome: 'mapped', events: 2, withheld: ['entitlement.granted'], reason: 'needs a producer key allowed to send entitlement.granted' }]);
    expect(await metrics.registry.getSingleMetricAsString('livescope_ingest_withheld_events_total')).toContain('livescope_ingest_withheld_events_total{source="k8s",event_type="entitlement.granted"} 1');
  });

  it('with a producer key allowed to send entitlement.*, publishes the grant; a record with nothing else left is a counted skip', async () => {
    const allowed = new MemorySink();
    await new IngestPipeline(adapterFor('k8s'), allowed, { controlAllowed: (t) => t.startsWith('entitlement.') }).consume([binding]);
    expect(allowed.batches.flat().map((e) => e.type)).toEqual(['identity.created', 'identity.created', 'entitlement.granted', 'telemetry.activity']);
    const revokeOnly = new MemorySink();
    const okta = fixture('okta-system-log/panther-okta-system-api-token-revoke.json');
    const stats = await new IngestPipeline(adapterFor('okta'), revokeOnly).consume([okta]);
    expect(stats).toMatchObject({ skipped: 1, withheld: 1, reasons: { 'skipped: needs-producer-key': 1, 'withheld: needs a producer key allowed to send identity.deleted': 1 } });
    expect(revokeOnly.noted[0]).toEqual({ ordinal: 1, outcome: 'skipped', events: 0, skip: { code: 'needs-producer-key', field: 'type', message: 'needs a producer key allowed to send identity.deleted' }, withheld: ['identity.deleted'], reason: 'needs a producer key allowed to send identity.deleted' });
  });

  it('runs the replay detector over the credential uses the adapter reports', async () => {
    const sink = new MemorySink();
    const use = (eventID: string, ip: string, t: string) => ({ eventVersion: '1.09', userIdentity: { type: 'IAMUser', principalId: 'AIDA1', arn: 'arn:aws:iam::111122223333:user/backup-bot', accountId: '111122223333', accessKeyId: 'AKIABACKUPBOTEXAMPLE', userName: 'backup-bot' }, eventTime: t, eventSource: 's3.amazonaws.com', eventName: 'PutObject', awsRegion: 'eu-west-1', sourceIPAddress: ip, requestParameters: { bucketName: 'backups' }, eventID, recipientAccountId: '111122223333' });
    const stats = await new IngestPipeline(adapterFor('cloudtrail', { announce: 'never' }), sink, { detector: new ReplayDetector() }).consume([[use('r1', '198.51.100.10', '2026-02-01T10:00:00Z'), use('r2', '203.0.113.10', '2026-02-01T10:02:00Z')].map((x) => JSON.stringify(x)).join('\n')]);
    expect(stats.replays).toBe(1);
    expect(sink.batches.flat().find((e) => e.type === 'telemetry.token-replay-detected')).toMatchObject({ subject: 'aws:111122223333:user/backup-bot', data: { tokenId: 'AKIABACKUPBOTEXAMPLE' } });
  });

  it('keeps the activity of people when asked (humans: keep), still publishing nothing for them', async () => {
    const kept: HumanActivity[] = [];
    const sink = new MemorySink();
    await new IngestPipeline(adapterFor('entra', { humans: 'keep' }), sink, { onHuman: (h) => kept.push(h) }).consume([fixture('entra/datadog-user-sign-in-logs.jsonl')]);
    expect(sink.batches.flat()).toEqual([]);
    expect(kept).toMatchObject([{ source: 'entra', actor: 'harry.potter@hogwarts.com', action: 'entra:sign-in', outcome: 'success' }]);
  });

  it('dry run prints each record\'s outcome with its reason before its events', async () => {
    const lines: string[] = [];
    await new IngestPipeline(autoAdapter(), new PrintingSink((l) => lines.push(l))).consume([[fixture('entra/datadog-user-sign-in-logs.jsonl').trim(), binding].join('\n')]);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.filter((p) => p.kind === 'record')).toEqual([
      { kind: 'record', ordinal: 1, outcome: 'skipped', events: 0, skip: { code: 'human', field: 'userPrincipalName', message: 'category SignInLogs: a user sign-in by harry.potter@hogwarts.com (a person)' }, reason: 'category SignInLogs: a user sign-in by harry.potter@hogwarts.com (a person)' },
      { kind: 'record', ordinal: 2, outcome: 'mapped', events: 2, withheld: ['entitlement.granted'], reason: 'needs a producer key allowed to send entitlement.granted' },
    ]);
    expect(parsed.slice(2).map((p) => p.type)).toEqual(['identity.created', 'telemetry.activity']);
  });
});

describe('github oidc verification', () => {
  const setup = async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'gh-1', alg: 'RS256' };
    const claims = JSON.parse(fixture('github-actions-oidc/github-docs-oidc-token-claims.json')) as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    const sign = (extra: Record<string, unknown> = {}) => new SignJWT({ ...claims, iat: now, nbf: now - 5, exp: now + 900, ...extra }).setProtectedHeader({ alg: 'RS256', kid: 'gh-1', typ: 'JWT' }).sign(privateKey);
    return { jwks: { keys: [jwk] }, claims, sign };
  };

  it('verifies JWTs against a JWKS and the audience; forged tokens and other audiences are dead-lettered', async () => {
    const { jwks, sign } = await setup();
    const token = await sign();
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`;
    const otherAudience = await sign({ aud: 'https://github.com/someone-else' });
    const sink = new MemorySink();
    await new IngestPipeline(adapterFor('github-oidc'), sink, { transform: githubJwtVerifier(jwks, { audience: 'https://github.com/octo-org' }) }).consume(chunks(`${token}\n${forged}\n${otherAudience}\n`, 50));
    expect(sink.batches.flat().find((e) => e.type === 'identity.created')).toMatchObject({ subject: 'github:octo-org/octo-repo@prod', data: { labels: { token_verified: 'true' } } });
    expect(sink.rejected.map((r) => r.message)).toEqual(['GitHub OIDC token rejected: signature verification failed', 'GitHub OIDC token rejected: unexpected "aud" claim value']);
  });

  it('regression (issue 14): caller-supplied claims with "verified": true never yield token_verified=true, through the webhook', async () => {
    const { jwks, claims } = await setup();
    const forged = JSON.stringify({ claims, verified: true });
    // With a JWKS configured: anything but a verifying token is refused.
    const verifying = new MemorySink();
    const app = ingestWebhook(new IngestPipeline(adapterFor('github-oidc'), verifying, { transform: githubJwtVerifier(jwks, { audience: 'https://github.com/octo-org' }) }), { source: 'github-oidc', bodyLimit: 1 << 20, logger: silentLogger, auth: { token: TOKEN } });
    for (const body of [forged, JSON.stringify(claims)]) {
      const r = await app.inject({ method: 'POST', url: '/ingest', headers: bearer, payload: body });
      expect(r.json()).toMatchObject({ events: 0, deadLetters: 1 });
    }
    expect(verifying.batches.flat()).toEqual([]);
    expect(verifying.rejected.map((r) => r.reason)).toEqual(['invalid-signature', 'invalid-signature']);
    // Without one: the wrapper is not a claim set; the claims alone map unverified.
    const plain = new MemorySink();
    await new IngestPipeline(adapterFor('github-oidc'), plain).consume([`${forged}\n${JSON.stringify({ ...claims, verified: true })}`]);
    expect(plain.rejected.map((r) => r.reason)).toEqual(['schema-invalid']);
    expect(JSON.stringify(plain.batches)).not.toContain('"token_verified":"true"');
  });

  it('requires an audience to verify', () => {
    expect(() => githubJwtVerifier({ keys: [] }, { audience: '' })).toThrow(/audience/);
  });
});

describe('ingest webhook', () => {
  const vaultApp = (auth: { token?: string; hmacSecret?: string } = { token: TOKEN }, metrics?: IngestMetrics) => {
    const sink = new MemorySink();
    return { sink, app: ingestWebhook(new IngestPipeline(adapterFor('vault'), sink), { source: 'vault', bodyLimit: 4096, logger: silentLogger, auth, ...(metrics ? { metrics } : {}) }) };
  };

  it('maps each authenticated POST and answers with its counts; adapter state spans requests', async () => {
    const { app } = vaultApp();
    const lines = fixture('vault-audit/vault-guides-lab-audit-subset.jsonl').split('\n');
    const first = await app.inject({ method: 'POST', url: '/ingest/vault', headers: { ...bearer, 'content-type': 'application/x-ndjson' }, payload: lines[2]! });
    expect(first.json()).toEqual({ source: 'vault', records: 1, events: 0, deadLetters: 0, skipped: 0, withheld: 0 });
    const second = await app.inject({ method: 'POST', url: '/ingest', headers: { ...bearer, 'content-type': 'text/plain' }, payload: lines[3]! });
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual({ source: 'vault', records: 1, events: 2, deadLetters: 0, skipped: 0, withheld: 0 });
  });

  it('requires the bearer token: missing or wrong → 401, compared in constant time', async () => {
    const metrics = new IngestMetrics('vault');
    const { app, sink } = vaultApp({ token: TOKEN }, metrics);
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: TOKEN }]) {
      const r = await app.inject({ method: 'POST', url: '/ingest', headers, payload: '{}' });
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    expect(sink.batches).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('livescope_ingest_webhook_requests_total')).toContain('{outcome="unauthenticated"} 3');
  });

  it('accepts an HMAC-SHA256 signature of the exact body instead (X-Livescope-Signature: sha256=<hex>), and both when both are configured', async () => {
    const secret = 'hmac-secret-0123456789abcdef';
    const body = fixture('vault-audit/vault-guides-lab-audit-subset.jsonl').split('\n')[3]!;
    const { app } = vaultApp({ hmacSecret: secret });
    expect((await app.inject({ method: 'POST', url: '/ingest', headers: { 'x-livescope-signature': hmacSignature(secret, body) }, payload: body })).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: '/ingest', headers: { 'x-livescope-signature': hmacSignature(secret, `${body} `) }, payload: body })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/ingest', payload: body })).statusCode).toBe(401);
    const both = vaultApp({ token: TOKEN, hmacSecret: secret }).app;
    expect((await both.inject({ method: 'POST', url: '/ingest', headers: { 'x-livescope-signature': hmacSignature(secret, body) }, payload: body })).statusCode).toBe(401);
    expect((await both.inject({ method: 'POST', url: '/ingest', headers: { ...bearer, 'x-livescope-signature': hmacSignature(secret, body) }, payload: body })).statusCode).toBe(202);
  });

  it('caps the body: past --body-limit the answer is 413, whatever the content type', async () => {
    const metrics = new IngestMetrics('vault');
    const { app, sink } = vaultApp({ token: TOKEN }, metrics);
    for (const type of ['application/json', 'text/plain', 'application/octet-stream']) {
      const r = await app.inject({ method: 'POST', url: '/ingest', headers: { ...bearer, 'content-type': type }, payload: 'x'.repeat(5000) });
      expect(r.statusCode).toBe(413);
    }
    expect(sink.batches).toEqual([]);
    expect(await metrics.registry.metrics()).toContain('livescope_ingest_webhook_requests_total{outcome="too-large"} 3');
  });

  it('refuses to run without authentication configured', () => {
    expect(() => vaultApp({})).toThrow(/bearer token or an HMAC secret/);
  });

  it('answers 503 when Kafka refuses the events', async () => {
    const failing: IngestSink = { publish: () => Promise.reject(new Error('no leader')), deadLetter: () => Promise.resolve() };
    const app = ingestWebhook(new IngestPipeline(adapterFor('okta', { announce: 'always' }), failing, { controlAllowed: () => true }), { source: 'okta', bodyLimit: 1 << 20, logger: silentLogger, auth: { token: TOKEN } });
    const r = await app.inject({ method: 'POST', url: '/ingest', headers: bearer, payload: fixture('okta-system-log/panther-okta-system-api-token-create.json') });
    expect(r.statusCode).toBe(503);
  });
});

describe('livescope-ingest command line', () => {
  const defaults = { layout: 'auto', owner: 'unassigned', announce: 'first-seen', batchEvents: 500, dryRun: false, quiet: false, bodyLimit: 10485760, machineUsers: [], humanUsers: [], humans: 'skip', replayWindowMs: 3600000, platformNetworks: {} };
  it('parses a file run, auto-detection, and a webhook run', () => {
    expect(parseIngestArgs(['vault', 'audit.log'])).toEqual({ source: 'vault', input: 'audit.log', ...defaults });
    expect(parseIngestArgs(['audit.log'])).toEqual({ source: 'auto', input: 'audit.log', ...defaults });
    expect(parseIngestArgs(['auto', '-'])).toMatchObject({ source: 'auto', input: '-' });
    expect(parseIngestArgs(['k8s', '--listen', '127.0.0.1:8099', '--owner', 'platform', '--announce', 'never', '--batch', '50', '--machine-users', 'ci-*, gitops-agent'])).toMatchObject({ source: 'k8s', listen: { host: '127.0.0.1', port: 8099 }, owner: 'platform', announce: 'never', batchEvents: 50, machineUsers: ['ci-*', 'gitops-agent'] });
    expect(parseIngestArgs(['github-oidc', '-', '--jwks', 'gh.json', '--audience', 'https://github.com/octo-org', '--dry-run'])).toMatchObject({ input: '-', jwksFile: 'gh.json', audience: 'https://github.com/octo-org', dryRun: true });
    const p = parseIngestArgs(['cloudtrail', 'x', '--platform-networks', 'aws-ec2=54.240.0.0/16,3.0.0.0/9', '--humans', 'keep', '--humans-out', 'people.jsonl']);
    expect(p.platformNetworks['aws-ec2']!.map((c) => c.text)).toEqual(['54.240.0.0/16', '3.0.0.0/9']);
    expect(p).toMatchObject({ humans: 'keep', humansOut: 'people.jsonl' });
  });
  it('refuses bad command lines with the usage', () => {
    const bad = [[], ['vault'], ['vault', 'a', 'b'], ['vault', 'x', '--format', 'xml'], ['vault', '--listen', 'nope'], ['vault', 'x', '--jwks', 'k.json'], ['github-oidc', 'x', '--jwks', 'k.json'], ['vault', 'x', '--batch', '0'], ['okta', 'x', '--machine-users', 'a'], ['k8s', 'x', '--humans', 'keep'], ['k8s', 'x', '--platform-networks', 'aws-ec2=nope']];
    for (const argv of bad) expect(() => parseIngestArgs(argv), argv.join(' ')).toThrow(InteropError);
    expect(() => parseIngestArgs(['vault'])).toThrow(/usage: livescope-ingest/);
    expect(() => parseIngestArgs(['github-oidc', 'x', '--jwks', 'k.json'])).toThrow(/--jwks requires --audience/);
  });
});
