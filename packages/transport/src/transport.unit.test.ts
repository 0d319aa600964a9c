import { broadcastEvent, decodeWire, identityEvent, topicConfigs, topicSpecs } from '@livescope/contracts';
import type { Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { CommandSigner, CommandVerifier, generateSigningKeyPair, parsePrivateKey, parsePublicKey, KEY_ID_HEADER, SIGNATURE_HEADER } from './CommandSigner.js';
import { BROADCAST_KEY, EventPublisher } from './EventPublisher.js';
import { partitionForKey } from './partitionForKey.js';
import { TransportError } from './TransportError.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return TransportError.is(e) ? e.code : 'other';
  }
};

describe('command signatures', () => {
  const k1 = generateSigningKeyPair('k1');
  const k2 = generateSigningKeyPair('k2');
  const value = Buffer.from('{"kind":"scope.change"}');

  it('verifies a signed value, also during a key rotation', () => {
    const verifier = new CommandVerifier([parsePublicKey('k1', k1.publicKey), parsePublicKey('k2', k2.publicKey)]);
    expect(verifier.check(value, new CommandSigner(parsePrivateKey('k1', k1.privateKey)).headers(value))).toBe('k1');
    expect(verifier.check(value, new CommandSigner(parsePrivateKey('k2', k2.privateKey)).headers(value))).toBe('k2');
  });

  it('refuses unsigned, tampered, unknown-key and wrong-key values', () => {
    const verifier = new CommandVerifier([parsePublicKey('k1', k1.publicKey)]);
    const headers = new CommandSigner(parsePrivateKey('k1', k1.privateKey)).headers(value);
    expect(codeOf(() => verifier.check(value, {}))).toBe('SIGNATURE_MISSING');
    expect(codeOf(() => verifier.check(Buffer.from('{"kind":"scope.change","x":1}'), headers))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => verifier.check(value, { ...headers, [KEY_ID_HEADER]: 'k9' }))).toBe('UNKNOWN_KEY_ID');
    const forged = new CommandSigner(parsePrivateKey('k1', k2.privateKey)).headers(value);
    expect(codeOf(() => verifier.check(value, forged))).toBe('SIGNATURE_INVALID');
    expect(headers[SIGNATURE_HEADER]).toHaveLength(64);
  });

  it('accepts PEM keys too', () => {
    const pem = parsePrivateKey('k1', k1.privateKey).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const pub = parsePublicKey('k1', k1.publicKey).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(new CommandVerifier([parsePublicKey('k1', pub)]).check(value, new CommandSigner(parsePrivateKey('k1', pem)).headers(value))).toBe('k1');
  });
});

describe('partitioning and topics', () => {
  it('puts a key on a stable partition, spread over all of them', () => {
    expect(partitionForKey('sa-1', 6)).toBe(partitionForKey('sa-1', 6));
    const seen = new Set(Array.from({ length: 600 }, (_, i) => partitionForKey(`identity-${i}`, 6)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('compacts snapshots and keeps retention on event streams', () => {
    const snapshots = topicSpecs.find((s) => s.name.includes('snapshots'))!;
    expect(topicConfigs(snapshots)).toMatchObject({ 'cleanup.policy': 'compact' });
    expect(topicConfigs(topicSpecs[0]!)).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': String(7 * 86_400_000) });
  });
});

describe('EventPublisher', () => {
  it('keys identity events by identity and copies broadcast events to every partition', () => {
    const publisher = new EventPublisher({} as Producer, 'events', 42, 3);
    const a = identityEvent('identity.created', 'sa-1', { kind: 'workload', name: 'a', namespace: 'n', owner: 'o' }, { id: 'e1', time: 0 });
    const b = broadcastEvent('secret.leaked', { secretPath: 'secret/x' }, { id: 'e2', time: 0 });
    const messages = publisher.messages([a, b], 1000);
    expect(messages.map((m) => [m.key, m.partition])).toEqual([['sa-1', undefined], [BROADCAST_KEY, 0], [BROADCAST_KEY, 1], [BROADCAST_KEY, 2]]);
    expect(decodeWire(messages[0]!.value as Buffer).schemaId).toBe(42);
    expect(messages.every((m) => m.timestamp === '1000')).toBe(true);
  });
});
