import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { leafHash, MERKLE_HEADER, merkleProofs, merkleRoot, nodeHash, rootFromProof, encodeProof } from './batchSignature.js';
import { CommandSigner, CommandVerifier, EPOCH_HEADER, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from './CommandSigner.js';
import { TransportError } from './TransportError.js';

const key = generateSigningKeyPair('w1');
const signer = new CommandSigner(parsePrivateKey('w1', key.privateKey), 3);
const verifier = (): CommandVerifier => new CommandVerifier([parsePublicKey('w1', key.publicKey)]);
const T = 'livescope.scope.changes.v1';
const msg = (i: number): { topic: string; key: string; value: Buffer } => ({ topic: i % 3 === 0 ? 'livescope.scope.snapshots.v1' : T, key: `id-${i % 7}`, value: Buffer.from(JSON.stringify({ identityId: `id-${i % 7}`, version: i })) });
const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return TransportError.is(e) ? e.code : 'other';
  }
};

describe('Merkle batch signatures', () => {
  it('leaves and nodes are SHA-256 of 0x00 ‖ payload and 0x01 ‖ left ‖ right (RFC 6962): signatures already written keep verifying', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (p, l, r) => {
        const sha = (...parts: Uint8Array[]): Buffer => parts.reduce((h, x) => h.update(x), createHash('sha256')).digest();
        expect(leafHash(Buffer.from(p))).toEqual(sha(Buffer.from([0]), p));
        expect(nodeHash(Buffer.from(l), Buffer.from(r))).toEqual(sha(Buffer.from([1]), l, r));
      }),
    );
  });

  it('every leaf of every tree size proves the root, and no other', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), (n) => {
        const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
        const { root, proofs } = merkleProofs(leaves);
        expect(root.equals(merkleRoot(leaves))).toBe(true);
        for (let i = 0; i < n; i++) {
          expect(rootFromProof(leaves[i]!, encodeProof(i, n, proofs[i]!))!.equals(root)).toBe(true);
          if (n > 1) expect(rootFromProof(leaves[(i + 1) % n]!, encodeProof(i, n, proofs[i]!))!.equals(root)).toBe(false);
        }
      }),
      { numRuns: 70 },
    );
  });

  it('one Ed25519 verification for a whole batch; every message verifies on its own', () => {
    const batch = Array.from({ length: 1000 }, (_, i) => msg(i));
    const headers = signer.signBatch(batch);
    const v = verifier();
    // In any order, each message alone.
    for (const i of [999, 0, 500, ...Array.from({ length: 997 }, (_, k) => k + 1)]) {
      expect(v.check(batch[i]!.topic, batch[i]!.key, batch[i]!.value, headers[i])).toEqual({ kid: 'w1', epoch: 3 });
    }
    expect(v.signatureChecks).toBe(1);
    // A fresh verifier (another enforcement point) verifies one message without the others.
    expect(verifier().check(batch[42]!.topic, batch[42]!.key, batch[42]!.value, headers[42])).toEqual({ kid: 'w1', epoch: 3 });
  });

  it('keeps the bindings: a message moved to another topic or key, changed, or given another proof or epoch is refused', () => {
    const batch = Array.from({ length: 8 }, (_, i) => msg(i));
    const headers = signer.signBatch(batch);
    const v = verifier();
    const m = batch[1]!;
    expect(codeOf(() => v.check('livescope.scope.snapshots.v1', m.key, m.value, headers[1]))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => v.check(m.topic, 'id-other', m.value, headers[1]))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => v.check(m.topic, m.key, Buffer.from('{"identityId":"id-1","version":999}'), headers[1]))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => v.check(m.topic, m.key, m.value, { ...headers[1], [MERKLE_HEADER]: headers[2]![MERKLE_HEADER] }))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => v.check(m.topic, m.key, m.value, { ...headers[1], [EPOCH_HEADER]: '4' }))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => v.check(m.topic, m.key, m.value, { ...headers[1], [MERKLE_HEADER]: Buffer.from('short') }))).toBe('SIGNATURE_INVALID');
    // Even after the root was verified once (cached), a moved message still fails: its leaf differs.
    expect(v.check(m.topic, m.key, m.value, headers[1])).toEqual({ kid: 'w1', epoch: 3 });
    expect(codeOf(() => v.check(m.topic, 'id-other', m.value, headers[1]))).toBe('SIGNATURE_INVALID');
  });

  it('a batch of one is signed singly, and single signatures still verify', () => {
    const [h] = signer.signBatch([msg(5)]);
    expect(h![MERKLE_HEADER]).toBeUndefined();
    expect(verifier().check(msg(5).topic, msg(5).key, msg(5).value, h)).toEqual({ kid: 'w1', epoch: 3 });
  });
});
