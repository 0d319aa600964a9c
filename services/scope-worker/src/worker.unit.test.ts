import { generateKeyPairSync, sign } from 'node:crypto';
import { decodeWire, releaseWindowSigningPayload, topicNames, valueSubject, type ScopeChange } from '@livescope/contracts';
import { emptyOutput } from '@livescope/scope-engine';
import { CommandSigner, CommandVerifier, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from '@livescope/transport';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadWorkerConfig } from './config.js';
import { Mutex } from './Mutex.js';
import { OutputEncoder } from './OutputEncoder.js';
import { releaseWindowVerifier } from './releaseWindowVerifier.js';

const keys = generateSigningKeyPair('k1');
const env = { LIVESCOPE_SIGNING_KEY_ID: keys.kid, LIVESCOPE_SIGNING_KEY: keys.privateKey };

describe('worker configuration', () => {
  it('has defaults for everything but the signing key', () => {
    const c = loadWorkerConfig(env);
    expect(c).toMatchObject({ brokers: ['127.0.0.1:9092'], pgSchema: 'livescope', topicPrefix: '', maxMessageBytes: 1024 * 1024, sessionTimeoutMs: 30_000 });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadWorkerConfig({ ...env, LIVESCOPE_MAX_MESSAGE_BYTES: 'lots' })).toThrow(/LIVESCOPE_MAX_MESSAGE_BYTES/);
    expect(() => loadWorkerConfig({ ...env, LIVESCOPE_PG_SCHEMA: 'Robert"); DROP' })).toThrow(/LIVESCOPE_PG_SCHEMA/);
    expect(() => loadWorkerConfig({ ...env, LIVESCOPE_RELEASE_SIGNERS: '[1,2' })).toThrow(/LIVESCOPE_RELEASE_SIGNERS/);
    expect(() => loadWorkerConfig({})).toThrow(ConfigError);
    expect(() => loadWorkerConfig({})).toThrow(/LIVESCOPE_SIGNING_KEY/);
  });
});

describe('OutputEncoder', () => {
  it('encodes commands in the wire format, signs them, and writes their audit rows', () => {
    const topics = topicNames('');
    const ids = new Map(Object.values(topics).map((t, i) => [valueSubject(t), 100 + i]));
    const encoder = new OutputEncoder(topics, ids, new CommandSigner(parsePrivateKey(keys.kid, keys.privateKey)));
    const out = emptyOutput();
    const change: ScopeChange = { kind: 'scope.change', identityId: 'a' as never, version: 3, previousVersion: 2, at: '2026-11-28T12:00:00.000Z', status: 'active', permissions: [], sessions: [], direction: 'narrowing', added: [], removed: [], cause: { eventId: 'e1', actor: 'alice' } };
    out.changes.push(change);
    const audit: Parameters<OutputEncoder['encode']>[2] = [];
    const msgs = encoder.encode(out, [], audit);
    const m = msgs.find((t) => t.topic === topics.scopeChanges)!.messages[0]!;
    expect(m.key).toBe('a');
    const frame = decodeWire(m.value as Buffer);
    expect(frame.schemaId).toBe(ids.get(valueSubject(topics.scopeChanges)));
    expect(JSON.parse(frame.payload.toString())).toEqual(change);
    expect(new CommandVerifier([parsePublicKey(keys.kid, keys.publicKey)]).check(topics.scopeChanges, 'a', m.value as Buffer, m.headers).kid).toBe(keys.kid);
    expect(audit).toEqual([expect.objectContaining({ kind: 'scope.change', identityId: 'a', version: 3, actor: 'alice', eventId: 'e1' })]);
  });
});

describe('release window signatures', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
  const w = { windowId: 'w1', namespace: 'checkout', startsAt: '2026-11-28T12:00:00Z', endsAt: '2026-11-28T13:00:00Z', signedBy: 'rm' };
  const signature = sign(null, Buffer.from(releaseWindowSigningPayload(w)), privateKey).toString('base64url');
  const verify = releaseWindowVerifier({ rm: x });

  it('accepts a window signed by a configured release manager', () => {
    expect(verify({ ...w, signature })).toBe(true);
  });
  it('refuses a changed window, an unknown signer and garbage', () => {
    expect(verify({ ...w, endsAt: '2026-11-28T23:00:00Z', signature })).toBe(false);
    expect(verify({ ...w, signedBy: 'mallory', signature })).toBe(false);
    expect(verify({ ...w, signature: 'not-a-signature-at-all' })).toBe(false);
  });
});

describe('the partition lock', () => {
  it('runs sections one at a time, in order', async () => {
    const m = new Mutex();
    const seen: number[] = [];
    await Promise.all([1, 2, 3].map((i) => m.run(async () => { await new Promise((r) => setTimeout(r, 5 - i)); seen.push(i); })));
    expect(seen).toEqual([1, 2, 3]);
  });
});
