import { hash } from 'node:crypto';

/**
 * One signature for a whole produced batch of commands: a Merkle tree over the messages' signing
 * payloads (topic, key, key epoch, exact value — see `commandSigningPayload`), whose root the worker
 * signs once. Each message carries the root's signature and its own inclusion proof, so it is still
 * verifiable on its own, and a verifier that has checked a root once verifies the batch's other
 * messages with a few SHA-256 (no Ed25519). What is signed keeps every binding of a single
 * signature: a proof only works for the exact (topic, key, epoch, value) it was built for.
 *
 * Leaves and inner nodes are domain-separated (0x00 / 0x01 prefixes, as RFC 6962), so a leaf can
 * never be presented as an inner node. The tree is the left-balanced one of RFC 6962: a node's left
 * subtree holds the largest power of two of leaves smaller than the node's count.
 */
export const MERKLE_HEADER = 'livescope-merkle';
const BATCH_DOMAIN = 'livescope.command-batch.v3';

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);
// One-shot hashing (no Hash object per call): a worker hashes every signed event's leaf and proof,
// an enforcer every command's.
export const leafHash = (payload: Buffer): Buffer => hash('sha256', Buffer.concat([LEAF, payload]), 'buffer');
export const nodeHash = (left: Buffer, right: Buffer): Buffer => hash('sha256', Buffer.concat([NODE, left, right], 1 + left.length + right.length), 'buffer');

/** The bytes the worker signs for a batch: a domain tag, the key epoch and the Merkle root. */
export function batchRootPayload(epoch: number, root: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${BATCH_DOMAIN}\n${epoch}\n`, 'utf8'), root]);
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The root of the tree over `leaves` (hashes). */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) throw new Error('no leaves');
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** Every leaf's audit path (siblings from the leaf up), computed in one pass. */
export function merkleProofs(leaves: readonly Buffer[]): { root: Buffer; proofs: Buffer[][] } {
  const proofs: Buffer[][] = leaves.map(() => []);
  const build = (from: number, to: number): Buffer => {
    if (to - from === 1) return leaves[from]!;
    const k = split(to - from);
    const left = build(from, from + k);
    const right = build(from + k, to);
    for (let i = from; i < from + k; i++) proofs[i]!.push(right);
    for (let i = from + k; i < to; i++) proofs[i]!.push(left);
    return nodeHash(left, right);
  };
  const root = build(0, leaves.length);
  return { root, proofs };
}

/** The header value: leaf index and leaf count (u32 big-endian each), then the siblings, leaf to root. */
export function encodeProof(index: number, count: number, siblings: readonly Buffer[]): Buffer {
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(index, 0);
  head.writeUInt32BE(count, 4);
  return Buffer.concat([head, ...siblings]);
}

/**
 * A proof read: its leaf count, the siblings (leaf to root), and per level from the top whether the
 * leaf is on the left and the leaf range of the subtree entered there; undefined when malformed
 * (wrong length for its index and count, an index outside the count).
 */
export function proofSides(proof: Buffer): { count: number; sides: boolean[]; ranges: [number, number][]; siblings: Buffer[] } | undefined {
  if (proof.length < 8 || (proof.length - 8) % 32 !== 0) return undefined;
  const index = proof.readUInt32BE(0);
  const count = proof.readUInt32BE(4);
  if (count === 0 || index >= count || count > 1 << 24) return undefined;
  const siblings: Buffer[] = [];
  for (let o = 8; o < proof.length; o += 32) siblings.push(proof.subarray(o, o + 32));
  // Walk down the left-balanced tree to find, per level, whether the leaf is on the left or the right.
  const sides: boolean[] = [];
  const ranges: [number, number][] = [];
  let from = 0;
  let to = count;
  while (to - from > 1) {
    const k = split(to - from);
    if (index < from + k) {
      sides.push(true);
      to = from + k;
    } else {
      sides.push(false);
      from = from + k;
    }
    ranges.push([from, to]);
  }
  if (sides.length !== siblings.length) return undefined;
  return { count, sides, ranges, siblings };
}

/**
 * The root a proof leads to from a leaf, or undefined when the proof is malformed (wrong length for
 * its index and count, an index outside the count).
 */
export function rootFromProof(leaf: Buffer, proof: Buffer): Buffer | undefined {
  const walk = proofSides(proof);
  if (walk === undefined) return undefined;
  const { sides, siblings } = walk;
  let h = leaf;
  for (let i = siblings.length - 1, s = 0; i >= 0; i--, s++) {
    const sibling = siblings[s]!;
    h = sides[i] ? nodeHash(h, sibling) : nodeHash(sibling, h);
  }
  return h;
}
