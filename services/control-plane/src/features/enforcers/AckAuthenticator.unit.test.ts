import { CommandSigner, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from '@livescope/transport';
import { describe, expect, it } from 'vitest';
import { AckAuthenticator, parseEnforcerKeys } from './AckAuthenticator.js';

const TOPIC = 'livescope.enforcer.acks.v1';
const gw1 = generateSigningKeyPair('gw-1-2026');
const gw2 = generateSigningKeyPair('gw-2-2026');
const value = Buffer.from('{"kind":"enforcer.ack","enforcerId":"gw-1"}');
const signed = (pair: typeof gw1, key: string, v = value, topic = TOPIC) => new CommandSigner(parsePrivateKey(pair.kid, pair.privateKey)).headers(topic, key, v);
const keys = new Map([
  ['gw-1', [parsePublicKey(gw1.kid, gw1.publicKey)]],
  ['gw-2', [parsePublicKey(gw2.kid, gw2.publicKey)]],
]);

describe('AckAuthenticator: whose acknowledgements count', () => {
  const auth = new AckAuthenticator(keys, false);

  it('verifies an acknowledgement signed by the enforcement point’s own key', () => {
    expect(auth.judge(TOPIC, 'gw-1', value, signed(gw1, 'gw-1'), 'gw-1')).toEqual({ kind: 'verified', kid: gw1.kid });
  });

  it('refuses an unsigned acknowledgement claiming an enforcement point that has keys (impersonation)', () => {
    expect(auth.judge(TOPIC, 'gw-1', value, undefined, 'gw-1')).toMatchObject({ kind: 'refused', reason: 'unsigned' });
  });

  it('refuses one signed by another enforcement point’s genuine key', () => {
    expect(auth.judge(TOPIC, 'gw-1', value, signed(gw2, 'gw-1'), 'gw-1')).toMatchObject({ kind: 'refused', reason: 'bad-signature' });
  });

  it('refuses a tampered body, a signature moved to another topic, and a body naming another enforcer than the key', () => {
    const h = signed(gw1, 'gw-1');
    expect(auth.judge(TOPIC, 'gw-1', Buffer.from(`${value.toString()} `), h, 'gw-1')).toMatchObject({ kind: 'refused', reason: 'bad-signature' });
    expect(auth.judge('other.topic', 'gw-1', value, h, 'gw-1')).toMatchObject({ kind: 'refused', reason: 'bad-signature' });
    expect(auth.judge(TOPIC, 'gw-1', value, h, 'gw-2')).toMatchObject({ kind: 'refused', reason: 'key-mismatch' });
  });

  it('counts enforcement points without keys as unverified, unless signed acknowledgements are required', () => {
    expect(auth.judge(TOPIC, 'gw-9', value, undefined, 'gw-9')).toEqual({ kind: 'unverified' });
    expect(auth.judge(TOPIC, 'gw-9', value, signed(gw1, 'gw-9'), 'gw-9')).toEqual({ kind: 'unverified' });
    const strict = new AckAuthenticator(keys, true);
    expect(strict.judge(TOPIC, 'gw-9', value, undefined, 'gw-9')).toMatchObject({ kind: 'refused', reason: 'no-key' });
    expect(strict.judge(TOPIC, 'gw-1', value, signed(gw1, 'gw-1'), 'gw-1')).toMatchObject({ kind: 'verified' });
  });
});

describe('LIVESCOPE_API_ENFORCER_KEYS', () => {
  it('parses enforcer id → key id → public key, several keys per enforcer for rotation', () => {
    const next = generateSigningKeyPair('gw-1-2027');
    const parsed = parseEnforcerKeys(JSON.stringify({ 'gw-1': { [gw1.kid]: gw1.publicKey, [next.kid]: next.publicKey } }));
    expect(parsed.get('gw-1')?.map((k) => k.kid)).toEqual([gw1.kid, next.kid]);
    expect(parseEnforcerKeys('  ').size).toBe(0);
  });

  it.each([
    ['not JSON', '{', /is not JSON/],
    ['an array', '[]', /JSON object/],
    ['an empty key list', '{"gw-1":{}}', /non-empty object/],
    ['a number as key', '{"gw-1":{"k":7}}', /must be a string/],
    ['garbage key material', '{"gw-1":{"k":"not-a-key"}}', /gw-1\/k: not an Ed25519 public key/],
    ['an empty enforcer id', '{"":{"k":"x"}}', /1–256 characters/],
  ])('refuses %s with a message naming what is wrong', (_what, text, message) => {
    expect(() => parseEnforcerKeys(text)).toThrow(message);
  });
});
