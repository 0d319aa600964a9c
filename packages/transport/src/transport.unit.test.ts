import { broadcastEvent, decodeWire, identityEvent, topicConfigs, topicSpecs } from '@livescope/contracts';
import type { IHeaders, Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { PRODUCER_KEY_ID_HEADER, PRODUCER_PROOF_HEADER, PRODUCER_SIGNATURE_HEADER } from '@livescope/contracts';
import { CommandSigner, CommandVerifier, EPOCH_HEADER, generateSigningKeyPair, parsePrivateKey, parsePublicKey, KEY_ID_HEADER, SIGNATURE_HEADER } from './CommandSigner.js';
import { ProducerKeyring, ProducerSigner } from './ProducerKeyring.js';
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
  const value = Buffer.from('{"kind":"scope.change","identityId":"sa-1","version":3}');
  const T = 'livescope.scope.changes.v1';
  const signer1 = new CommandSigner(parsePrivateKey('k1', k1.privateKey));

  it('verifies a signed value, also during a key rotation', () => {
    const verifier = new CommandVerifier([parsePublicKey('k1', k1.publicKey), parsePublicKey('k2', k2.publicKey)]);
    expect(verifier.check(T, 'sa-1', value, signer1.headers(T, 'sa-1', value))).toEqual({ kid: 'k1', epoch: 1 });
    expect(verifier.check(T, 'sa-1', value, new CommandSigner(parsePrivateKey('k2', k2.privateKey), 2).headers(T, 'sa-1', value))).toEqual({ kid: 'k2', epoch: 2 });
  });

  it('refuses unsigned, tampered, unknown-key and wrong-key values', () => {
    const verifier = new CommandVerifier([parsePublicKey('k1', k1.publicKey)]);
    const headers = signer1.headers(T, 'sa-1', value);
    expect(codeOf(() => verifier.check(T, 'sa-1', value, {}))).toBe('SIGNATURE_MISSING');
    expect(codeOf(() => verifier.check(T, 'sa-1', Buffer.from('{"kind":"scope.change","x":1}'), headers))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => verifier.check(T, 'sa-1', value, { ...headers, [KEY_ID_HEADER]: 'k9' }))).toBe('UNKNOWN_KEY_ID');
    const forged = new CommandSigner(parsePrivateKey('k1', k2.privateKey)).headers(T, 'sa-1', value);
    expect(codeOf(() => verifier.check(T, 'sa-1', value, forged))).toBe('SIGNATURE_INVALID');
    expect(headers[SIGNATURE_HEADER]).toHaveLength(64);
  });

  it('binds the topic, the key and the epoch: a genuine signature moved elsewhere is refused', () => {
    const verifier = new CommandVerifier([parsePublicKey('k1', k1.publicKey)]);
    const headers = signer1.headers(T, 'sa-1', value);
    expect(codeOf(() => verifier.check('livescope.scope.snapshots.v1', 'sa-1', value, headers))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => verifier.check(T, 'sa-2', value, headers))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => verifier.check(T, 'sa-1', value, { ...headers, [EPOCH_HEADER]: '7' }))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => verifier.check(T, 'sa-1', value, { ...headers, [EPOCH_HEADER]: 'x' }))).toBe('SIGNATURE_INVALID');
  });

  it('refuses an epoch below the minimum, or another epoch than the key is pinned to', () => {
    const old = signer1.headers(T, 'sa-1', value);
    expect(codeOf(() => new CommandVerifier([parsePublicKey('k1', k1.publicKey)], { minEpoch: 2 }).check(T, 'sa-1', value, old))).toBe('KEY_EPOCH_REFUSED');
    expect(codeOf(() => new CommandVerifier([{ ...parsePublicKey('k1', k1.publicKey), epoch: 3 }]).check(T, 'sa-1', value, old))).toBe('KEY_EPOCH_REFUSED');
  });

  it('accepts PEM keys too', () => {
    const pem = parsePrivateKey('k1', k1.privateKey).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const pub = parsePublicKey('k1', k1.publicKey).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(new CommandVerifier([parsePublicKey('k1', pub)]).check(T, null, value, new CommandSigner(parsePrivateKey('k1', pem)).headers(T, null, value)).kid).toBe('k1');
  });
});

describe('producer signatures of input events', () => {
  const k = generateSigningKeyPair('control-plane');
  const signer = ProducerSigner.fromConfig('control-plane', k.privateKey);
  const keyringJson = JSON.stringify({ 'control-plane': { publicKey: k.publicKey, eventTypes: ['order.*', 'session.approval-granted'], namespaces: ['payments'] } });
  const keyring = ProducerKeyring.fromJson(keyringJson);
  const value = Buffer.from('{"type":"order.issued"}');
  const T = 'livescope.events.v1';

  it('trusts a valid signature by a key allowed to send the type, with its namespaces', () => {
    expect(keyring.check(T, '@broadcast', value, signer.headers(T, '@broadcast', value), 'order.issued')).toEqual({ kind: 'trusted', keyId: 'control-plane', namespaces: ['payments'] });
    expect(keyring.check(T, 'sa-1', value, undefined, 'order.issued')).toEqual({ kind: 'unsigned' });
  });

  it('refuses another type, a forged or moved signature, an unknown key', () => {
    const h = signer.headers(T, 'sa-1', value);
    expect(keyring.check(T, 'sa-1', value, h, 'policies.published')).toMatchObject({ kind: 'refused', reason: expect.stringContaining('may not send policies.published') });
    expect(keyring.check(T, 'sa-2', value, h, 'order.issued')).toMatchObject({ kind: 'refused' });
    expect(keyring.check('other.events', 'sa-1', value, h, 'order.issued')).toMatchObject({ kind: 'refused' });
    expect(keyring.check(T, 'sa-1', Buffer.from('{"type":"order.lifted"}'), h, 'order.issued')).toMatchObject({ kind: 'refused' });
    const stranger = ProducerSigner.fromConfig('stranger', generateSigningKeyPair('s').privateKey);
    expect(keyring.check(T, 'sa-1', value, stranger.headers(T, 'sa-1', value), 'order.issued')).toMatchObject({ kind: 'refused', keyId: 'stranger' });
    expect(keyring.check(T, 'sa-1', value, { [PRODUCER_KEY_ID_HEADER]: 'control-plane' }, 'order.issued')).toMatchObject({ kind: 'refused' });
  });

  describe('one signature per produced batch', () => {
    const msgs = [0, 1, 2, 3, 4].map((i) => ({ key: `sa-${i}`, value: Buffer.from(`{"type":"order.issued","n":${i}}`) }));
    const withProof = (h: IHeaders, proof: Buffer | string): IHeaders => ({ ...h, [PRODUCER_PROOF_HEADER]: proof });

    it('every message of the batch verifies on its own, with one signature for all of them', () => {
      const hs = signer.batchHeaders(T, msgs);
      expect(new Set(hs.map((h) => (h[PRODUCER_SIGNATURE_HEADER] as Buffer).toString('hex'))).size).toBe(1);
      // A fresh keyring per message: no verified root is cached between them.
      for (const [i, m] of msgs.entries()) expect(ProducerKeyring.fromJson(keyringJson).check(T, m.key, m.value, hs[i], 'order.issued')).toMatchObject({ kind: 'trusted', keyId: 'control-plane' });
      for (const [i, m] of msgs.entries()) expect(keyring.check(T, m.key, m.value, hs[i], 'order.issued')).toMatchObject({ kind: 'trusted' });
      expect(signer.batchHeaders(T, msgs.slice(0, 1))[0]).not.toHaveProperty(PRODUCER_PROOF_HEADER);
    });

    it('a proof binds its exact topic, key and value, and only its own batch (also once the root is cached)', () => {
      const hs = signer.batchHeaders(T, msgs);
      expect(keyring.check(T, 'sa-0', msgs[0]!.value, hs[0], 'order.issued')).toMatchObject({ kind: 'trusted' });
      expect(keyring.check(T, 'sa-0', msgs[1]!.value, hs[0], 'order.issued')).toMatchObject({ kind: 'refused' });
      expect(keyring.check(T, 'sa-1', msgs[0]!.value, hs[0], 'order.issued')).toMatchObject({ kind: 'refused' });
      expect(keyring.check('other.events', 'sa-0', msgs[0]!.value, hs[0], 'order.issued')).toMatchObject({ kind: 'refused' });
      // Another message's proof, or a proof from another batch under this batch's signature.
      expect(keyring.check(T, 'sa-0', msgs[0]!.value, withProof(hs[0]!, hs[1]![PRODUCER_PROOF_HEADER] as Buffer), 'order.issued')).toMatchObject({ kind: 'refused' });
      const other = signer.batchHeaders(T, [{ key: 'sa-0', value: Buffer.from('{"type":"order.issued","n":"other"}') }, msgs[1]!]);
      expect(keyring.check(T, 'sa-1', msgs[1]!.value, withProof(hs[1]!, other[1]![PRODUCER_PROOF_HEADER] as Buffer), 'order.issued')).toMatchObject({ kind: 'refused' });
      // A leaf appended by someone without the key: a proof for a count the signer never made.
      expect(keyring.check(T, 'sa-9', Buffer.from('{"type":"order.lifted"}'), withProof(hs[0]!, hs[0]![PRODUCER_PROOF_HEADER] as Buffer), 'order.lifted')).toMatchObject({ kind: 'refused' });
    });

    it('a single-message signature is not a batch signature, and malformed proofs are refused with a reason', () => {
      const single = signer.headers(T, 'sa-0', msgs[0]!.value);
      expect(keyring.check(T, 'sa-0', msgs[0]!.value, withProof(single, Buffer.from([0, 0, 0, 0, 0, 0, 0, 1])), 'order.issued')).toMatchObject({ kind: 'refused' });
      const h = signer.batchHeaders(T, msgs)[2]!;
      for (const bad of [Buffer.alloc(0), Buffer.alloc(7), Buffer.alloc(8 + 31), Buffer.concat([Buffer.from([0, 0, 0, 9, 0, 0, 0, 5]), Buffer.alloc(96)]), Buffer.concat([Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(32)])]) {
        expect(keyring.check(T, 'sa-2', msgs[2]!.value, withProof(h, bad), 'order.issued')).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/malformed|does not cover/) });
      }
      expect(keyring.check(T, 'sa-2', msgs[2]!.value, { ...h, [PRODUCER_SIGNATURE_HEADER]: Buffer.alloc(10) }, 'order.issued')).toMatchObject({ kind: 'refused', reason: expect.stringContaining('not an Ed25519 signature') });
    });

    it('the cache of verified roots stays bounded under a flood of distinct batches', () => {
      const ring = ProducerKeyring.fromJson(keyringJson);
      for (let b = 0; b < 4200; b++) {
        const batch = [{ key: 'sa-0', value: Buffer.from(`{"b":${b}}`) }, { key: 'sa-1', value: Buffer.from(`{"b":${b}}`) }];
        const hs = signer.batchHeaders(T, batch);
        expect(ring.check(T, 'sa-0', batch[0]!.value, hs[0], 'order.issued').kind).toBe('trusted');
      }
      expect((ring as unknown as { verifiedRoots: Map<string, Buffer> }).verifiedRoots.size).toBeLessThanOrEqual(4096);
    });
  });

  it('names the problem in a bad keyring', () => {
    expect(codeOf(() => ProducerKeyring.fromJson('{"k":{"publicKey":"x"}}'))).toBe('BAD_KEY');
    expect(codeOf(() => ProducerKeyring.fromJson('not json'))).toBe('BAD_KEY');
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
