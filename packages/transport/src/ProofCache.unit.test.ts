import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeProof, leafHash, merkleProofs } from './batchSignature.js';
import { ProofCache } from './ProofCache.js';

const leaves = (n: number, tag = 'm'): Buffer[] => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`${tag}-${i}`)));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function batch(n: number, tag?: string) {
  const ls = leaves(n, tag);
  const { root, proofs } = merkleProofs(ls);
  return { leaves: ls, root, proofs: proofs.map((siblings, i) => encodeProof(i, n, siblings)) };
}

describe('ProofCache', () => {
  it('verifies every message of a batch with one root check, whatever order they come in', () => {
    for (const n of [1, 2, 3, 7, 100, 1000]) {
      const b = batch(n);
      const cache = new ProofCache();
      let checks = 0;
      const verifyRoot = (r: Buffer): boolean => {
        checks++;
        return r.equals(b.root);
      };
      const order = [...b.leaves.keys()].reverse();
      for (const i of order) expect(cache.covers('sig-1', b.leaves[i]!, b.proofs[i]!, verifyRoot)).toBe(true);
      expect(checks).toBe(1);
    }
  });

  it('refuses, with a warm cache, a changed message, a changed sibling, another index and a message of another batch', () => {
    const b = batch(64);
    const other = batch(64, 'other');
    const cache = new ProofCache();
    const verifyRoot = (r: Buffer): boolean => r.equals(b.root);
    for (let i = 0; i < 64; i += 2) expect(cache.covers('sig-1', b.leaves[i]!, b.proofs[i]!, verifyRoot)).toBe(true);
    // A forged message under a genuine proof: its path meets a proven node with another hash.
    expect(cache.covers('sig-1', leafHash(Buffer.from('forged')), b.proofs[1]!, verifyRoot)).toBe(false);
    // The sibling next to the leaf changed: the first node of the path is not the proven one.
    const tampered = Buffer.from(b.proofs[3]!);
    tampered[8]! ^= 1;
    expect(cache.covers('sig-1', b.leaves[3]!, tampered, verifyRoot)).toBe(false);
    // The genuine leaf 5 presented with leaf 7's proof (another place in the tree).
    expect(cache.covers('sig-1', b.leaves[5]!, b.proofs[7]!, verifyRoot)).toBe(false);
    // Another batch's genuine message under this batch's signature.
    expect(cache.covers('sig-1', other.leaves[1]!, other.proofs[1]!, verifyRoot)).toBe(false);
    // The genuine odd messages still verify.
    for (let i = 1; i < 64; i += 2) expect(cache.covers('sig-1', b.leaves[i]!, b.proofs[i]!, verifyRoot)).toBe(true);
  });

  it('a malformed proof is undefined; a root whose signature fails is not remembered', () => {
    const b = batch(8);
    const cache = new ProofCache();
    expect(cache.covers('sig-1', b.leaves[0]!, b.proofs[0]!.subarray(0, 20), () => true)).toBeUndefined();
    expect(cache.covers('sig-1', b.leaves[0]!, Buffer.concat([b.proofs[0]!, Buffer.alloc(32)]), () => true)).toBeUndefined();
    let checks = 0;
    expect(cache.covers('sig-1', b.leaves[0]!, b.proofs[0]!, () => (checks++, false))).toBe(false);
    expect(cache.covers('sig-1', b.leaves[1]!, b.proofs[1]!, () => (checks++, false))).toBe(false);
    expect(checks).toBe(2);
  });

  it('remembers the latest trees only (bounded): an older batch is verified again from its root', () => {
    const cache = new ProofCache();
    const batches = Array.from({ length: 17 }, (_, i) => batch(4, `b${i}`));
    let checks = 0;
    const check = (k: number, i: number): boolean | undefined =>
      cache.covers(`sig-${k}`, batches[k]!.leaves[i]!, batches[k]!.proofs[i]!, (r) => {
        checks++;
        return sha(r) === sha(batches[k]!.root);
      });
    for (let k = 0; k < 17; k++) expect(check(k, 0)).toBe(true);
    expect(checks).toBe(17);
    expect(check(16, 1)).toBe(true);
    expect(checks).toBe(17);
    // Batch 0 was forgotten when the 17th was remembered.
    expect(check(0, 1)).toBe(true);
    expect(checks).toBe(18);
  });
});
