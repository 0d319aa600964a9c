import { readFileSync } from 'node:fs';
import { adapterFor } from '@livescope/adapters';
import type { LivescopeEventInput } from '@livescope/contracts';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { githubJwtVerifier } from '../src/ingest/githubJwtVerifier.js';
import { IngestPipeline } from '../src/ingest/IngestPipeline.js';
import type { IngestSink, RejectedRecord } from '../src/ingest/IngestSink.js';
import { ingestWebhook } from '../src/ingest/ingestWebhook.js';
import { parseIngestArgs } from '../src/ingest/parseIngestArgs.js';
import { InteropError } from '../src/InteropError.js';
import { silentLogger } from './support.js';

const FIXTURES = new URL('../../../packages/adapters/test/fixtures/', import.meta.url);
const fixture = (p: string): string => readFileSync(new URL(p, FIXTURES), 'utf8');

class MemorySink implements IngestSink {
  readonly batches: LivescopeEventInput[][] = [];
  readonly rejected: RejectedRecord[] = [];
  publish(events: readonly LivescopeEventInput[]): Promise<void> {
    this.batches.push([...events]);
    return Promise.resolve();
  }
  deadLetter(records: readonly RejectedRecord[]): Promise<void> {
    this.rejected.push(...records);
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

describe('ingest pipeline', () => {
  it('streams a Vault audit file in small chunks: events in order and batches, dead letters with the original text', async () => {
    const sink = new MemorySink();
    const p = new IngestPipeline(adapterFor('vault'), sink, { batchEvents: 4, now: () => '2026-01-01T00:00:00.000Z' });
    const stats = await p.consume(chunks(fixture('vault-audit/vault-guides-lab-audit-subset.jsonl'), 97));
    expect(stats).toEqual({ records: 20, events: 11, deadLetters: 2, skipped: 2, reasons: { 'dead-letter: unsupported': 2, 'skipped: token for a person': 1, 'skipped: request by a person': 1 } });
    expect(sink.batches.every((b) => b.length <= 4)).toBe(true);
    expect(sink.batches.flat().map((e) => e.type)).toEqual([
      'identity.created',
      'session.started',
      'telemetry.activity',
      'identity.created',
      'session.started',
      'secret.accessed',
      'secret.accessed',
      'secret.accessed',
      'identity.created',
      'session.started',
      'telemetry.activity',
    ]);
    expect(sink.rejected.map((r) => [r.reason, r.ordinal, (JSON.parse(r.raw) as { type: string }).type])).toEqual([
      ['unsupported', 18, 'response'],
      ['unsupported', 20, 'response'],
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

  it('verifies GitHub OIDC JWTs against a JWKS when given one, and dead-letters forged tokens', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'gh-1', alg: 'RS256' };
    const claims = JSON.parse(fixture('github-actions-oidc/github-docs-oidc-token-claims.json')) as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ ...claims, iat: now, nbf: now - 5, exp: now + 900 }).setProtectedHeader({ alg: 'RS256', kid: 'gh-1', typ: 'JWT' }).sign(privateKey);
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`;
    const sink = new MemorySink();
    const p = new IngestPipeline(adapterFor('github-oidc'), sink, { transform: githubJwtVerifier({ keys: [jwk] }) });
    await p.consume(chunks(`${token}\n${forged}\n`, 50));
    expect(sink.batches.flat().find((e) => e.type === 'identity.created')).toMatchObject({ subject: 'github:octo-org/octo-repo@prod', data: { labels: { token_verified: 'true' } } });
    expect(sink.rejected.map((r) => [r.reason, r.message])).toEqual([['invalid-signature', 'GitHub OIDC token rejected: signature verification failed']]);
  });

  it('webhook mode: each POST is mapped and answered with its counts; adapter state spans requests', async () => {
    const sink = new MemorySink();
    const p = new IngestPipeline(adapterFor('vault'), sink);
    const app = ingestWebhook(p, { source: 'vault', bodyLimit: 1 << 20, logger: silentLogger });
    const lines = fixture('vault-audit/vault-guides-lab-audit-subset.jsonl').split('\n');
    const first = await app.inject({ method: 'POST', url: '/ingest/vault', headers: { 'content-type': 'application/x-ndjson' }, payload: lines[2]! });
    expect(first.json()).toEqual({ source: 'vault', records: 1, events: 0, deadLetters: 0, skipped: 0 });
    const second = await app.inject({ method: 'POST', url: '/ingest', headers: { 'content-type': 'text/plain' }, payload: lines[3]! });
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual({ source: 'vault', records: 1, events: 2, deadLetters: 0, skipped: 0 });
    const k8s = new IngestPipeline(adapterFor('k8s'), sink);
    const k8sApp = ingestWebhook(k8s, { source: 'k8s', bodyLimit: 1 << 20, logger: silentLogger });
    const list = { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [JSON.parse(fixture('k8s-audit/panther-partial-sa-secret-get-403.json'))] };
    expect((await k8sApp.inject({ method: 'POST', url: '/ingest', headers: { 'content-type': 'application/json' }, payload: list })).json()).toMatchObject({ records: 1, events: 2 });
  });

  it('webhook mode answers 503 when Kafka refuses the events', async () => {
    const failing: IngestSink = { publish: () => Promise.reject(new Error('no leader')), deadLetter: () => Promise.resolve() };
    const app = ingestWebhook(new IngestPipeline(adapterFor('okta'), failing), { source: 'okta', bodyLimit: 1 << 20, logger: silentLogger });
    const r = await app.inject({ method: 'POST', url: '/ingest', payload: fixture('okta-system-log/panther-okta-system-api-token-create.json') });
    expect(r.statusCode).toBe(503);
  });
});

describe('livescope-ingest command line', () => {
  it('parses a file run and a webhook run', () => {
    expect(parseIngestArgs(['vault', 'audit.log'])).toEqual({ source: 'vault', input: 'audit.log', layout: 'auto', owner: 'unassigned', announce: 'first-seen', batchEvents: 500, dryRun: false, quiet: false, bodyLimit: 10485760 });
    expect(parseIngestArgs(['k8s', '--listen', '127.0.0.1:8099', '--owner', 'platform', '--announce', 'never', '--batch', '50'])).toMatchObject({ source: 'k8s', listen: { host: '127.0.0.1', port: 8099 }, owner: 'platform', announce: 'never', batchEvents: 50 });
    expect(parseIngestArgs(['github-oidc', '-', '--jwks', 'gh.json', '--dry-run'])).toMatchObject({ input: '-', jwksFile: 'gh.json', dryRun: true });
  });
  it('refuses bad command lines with the usage', () => {
    for (const argv of [[], ['splunk', 'x'], ['vault'], ['vault', 'a', 'b'], ['vault', 'x', '--format', 'xml'], ['vault', '--listen', 'nope'], ['vault', 'x', '--jwks', 'k.json'], ['vault', 'x', '--batch', '0']]) {
      expect(() => parseIngestArgs(argv), argv.join(' ')).toThrow(InteropError);
    }
    expect(() => parseIngestArgs(['vault'])).toThrow(/usage: livescope-ingest/);
  });
});
