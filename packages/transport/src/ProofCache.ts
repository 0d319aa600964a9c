import { nodeHash, proofSides } from './batchSignature.js';

/** A node's place in a left-balanced tree: the range of leaves it covers, [from, to). Counts are below 2^24. */
const position = (from: number, to: number): number => from * 2 ** 25 + to;

/** Trees whose nodes are remembered at most; a tree of more leaves than this is not remembered. */
const MAX_TREES = 16;
const MAX_LEAVES = 1 << 16;

/**
 * The inner nodes of batch trees whose root a verifier has checked (its signature verified), so
 * that the rest of a batch costs a hash or two per message instead of one per level: a proof is
 * hashed from its leaf up only until it reaches a node of the same tree already proven to lead to
 * the verified root. Reaching a proven node at its place in the tree proves the leaf is in the tree
 * as surely as reaching the root does (a different path to a known node is a SHA-256 collision); a
 * different hash at a proven node's place is refused. Bounded: the nodes of the last `MAX_TREES`
 * trees (messages of a batch arrive together), each of at most `MAX_LEAVES` leaves.
 */
export class ProofCache {
  private readonly trees = new Map<string, Map<number, Buffer>>();

  /**
   * Whether `proof` puts `leaf` in the tree signed by the signature `treeId` names: true, false (not
   * covered, or the root's signature is not valid) or undefined (a malformed proof). `verifyRoot` checks
   * the root's signature; it is called only when the proof reaches no node already proven.
   */
  covers(treeId: string, leaf: Buffer, proof: Buffer, verifyRoot: (root: Buffer) => boolean): boolean | undefined {
    const walk = proofSides(proof);
    if (walk === undefined) return undefined;
    const { count, sides, ranges, siblings } = walk;
    const id = `${treeId}\u0000${count}`;
    const known = this.trees.get(id);
    const path: [number, Buffer][] = [];
    let h = leaf;
    // Bottom-up: level i (from the top) has the sibling siblings[depth - 1 - i]; ranges[i] is the subtree the walk entered at level i.
    for (let i = sides.length - 1, s = 0; i >= 0; i--, s++) {
      const sibling = siblings[s]!;
      h = sides[i] ? nodeHash(h, sibling) : nodeHash(sibling, h);
      const [from, to] = i === 0 ? [0, count] : ranges[i - 1]!;
      const at = position(from, to);
      const proven = known?.get(at);
      if (proven !== undefined) {
        if (!proven.equals(h)) return false;
        for (const [p, node] of path) known!.set(p, node);
        return true;
      }
      path.push([at, h]);
    }
    if (!verifyRoot(h)) return false;
    if (count <= MAX_LEAVES) {
      let nodes = known;
      if (nodes === undefined) {
        if (this.trees.size >= MAX_TREES) this.trees.delete(this.trees.keys().next().value!);
        this.trees.set(id, (nodes = new Map<number, Buffer>()));
      }
      for (const [p, node] of path) nodes.set(p, node);
    }
    return true;
  }
}
