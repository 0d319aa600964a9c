import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@livescope/transport';
import { describe, expect, it } from 'vitest';
import { loadInteropConfig } from '../src/config.js';
import { producerIdentityFromEnv, secretFromEnv } from '../src/secretEnv.js';

const keys = JSON.stringify([{ kid: 'k1', alg: 'RS256', privateKey: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----' }]);
const base = { LIVESCOPE_SSF_SIGNING_KEYS: keys, LIVESCOPE_COMMAND_PUBLIC_KEYS: '{"w1":"abc"}' };

describe('livescope-interop configuration', () => {
  it('has defaults for everything but the keys', () => {
    const c = loadInteropConfig(base);
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8470, defaultSubjects: 'ALL', sessionSubjects: 'complex', pushMaxAttempts: 10, consumeFromBeginning: false, receiverClients: [], trustedIssuers: [] });
    expect([...c.features]).toEqual(['transmitter', 'receiver', 'ocsf']);
  });
  it('names the variable that is wrong', () => {
    expect(() => loadInteropConfig({})).toThrow(/LIVESCOPE_SSF_SIGNING_KEYS is required/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_COMMAND_PUBLIC_KEYS: '{}' })).toThrow(/LIVESCOPE_COMMAND_PUBLIC_KEYS is required/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_INTEROP_PORT: 'eighty' })).toThrow(/LIVESCOPE_INTEROP_PORT/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_RECEIVER_CLIENTS: '[{"clientId":"a","token":"short","audience":"x"}]' })).toThrow(/LIVESCOPE_SSF_RECEIVER_CLIENTS: 0.token/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_TRUSTED_ISSUERS: '[{"issuer":"https://idp","audience":["a"]}]' })).toThrow(/needs exactly one of jwks and jwksUri/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_INTEROP_ENABLE: 'transmitter,magic' })).toThrow(/unknown feature magic/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_SIGNING_KEYS: 'not json' })).toThrow(/LIVESCOPE_SSF_SIGNING_KEYS: is not JSON/);
  });
  it('a receiver-only deployment needs no signing keys', () => {
    expect([...loadInteropConfig({ LIVESCOPE_INTEROP_ENABLE: 'receiver' }).features]).toEqual(['receiver']);
  });

  it('reads the producer key (inline or from a file) and the types it may send; without one, no control type is allowed', () => {
    const key = generateSigningKeyPair('ingest-1');
    const dir = mkdtempSync(join(tmpdir(), 'interop-config-'));
    writeFileSync(join(dir, 'key'), `${key.privateKey}\n`);
    const inline = producerIdentityFromEnv({ LIVESCOPE_PRODUCER_KEY_ID: 'ingest-1', LIVESCOPE_PRODUCER_KEY: key.privateKey, LIVESCOPE_PRODUCER_EVENT_TYPES: 'entitlement.*,identity.deleted' });
    expect(inline.keyId).toBe('ingest-1');
    expect([inline.allows('entitlement.granted'), inline.allows('identity.deleted'), inline.allows('policies.published')]).toEqual([true, true, false]);
    expect(producerIdentityFromEnv({ LIVESCOPE_PRODUCER_KEY_ID: 'ingest-1', LIVESCOPE_PRODUCER_KEY_FILE: join(dir, 'key') }).signer).toBeDefined();
    const none = producerIdentityFromEnv({});
    expect([none.signer, none.allows('entitlement.granted')]).toEqual([undefined, false]);
    expect(() => producerIdentityFromEnv({ LIVESCOPE_PRODUCER_KEY: key.privateKey })).toThrow(/LIVESCOPE_PRODUCER_KEY_ID is required/);
    expect(() => producerIdentityFromEnv({ LIVESCOPE_PRODUCER_KEY_ID: 'x', LIVESCOPE_PRODUCER_KEY: 'not-a-key' })).toThrow(/LIVESCOPE_PRODUCER_KEY: not an Ed25519 private key/);
    expect(() => secretFromEnv({ S: 'a', S_FILE: join(dir, 'key') }, 'S')).toThrow(/both set/);
    expect(() => secretFromEnv({ S_FILE: join(dir, 'missing') }, 'S')).toThrow(/S_FILE: cannot read/);
    expect(loadInteropConfig({ ...base, LIVESCOPE_PRODUCER_KEY_ID: 'ingest-1', LIVESCOPE_PRODUCER_KEY: key.privateKey }).producer.keyId).toBe('ingest-1');
  });
  it('reads OAuth clients (secret inline or from a file) and poll streams', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interop-config-'));
    writeFileSync(join(dir, 'secret'), 'file-secret-0123456789\n');
    const c = loadInteropConfig({ ...base, LIVESCOPE_SSF_OAUTH_CLIENTS: JSON.stringify([{ clientId: 'a', clientSecret: 'inline-secret-0123456789', audience: 'https://a' }, { clientId: 'b', clientSecretFile: join(dir, 'secret'), audience: 'https://b' }]), LIVESCOPE_SSF_POLL_STREAMS: JSON.stringify([{ transmitter: 'https://tx.example', clientId: 'rx', clientSecret: 's', audience: 'https://rx' }]) });
    expect(c.oauthClients.map((o) => o.clientSecret)).toEqual(['inline-secret-0123456789', 'file-secret-0123456789']);
    expect(c.pollStreams[0]).toMatchObject({ transmitter: 'https://tx.example', maxEvents: 100, description: 'livescope poll receiver', identityTemplate: '{value}' });
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_OAUTH_CLIENTS: JSON.stringify([{ clientId: 'a', audience: 'x' }]) })).toThrow(/client a needs a clientSecret/);
  });
});
