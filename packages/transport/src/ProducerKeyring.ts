import { sign, verify, type KeyObject } from 'node:crypto';
import {
  capabilityAllows,
  PRODUCER_KEY_ID_HEADER,
  PRODUCER_PROOF_HEADER,
  PRODUCER_SIGNATURE_HEADER,
  producerBatchRootPayload,
  producerSigningPayload,
  type ProducerCapabilities,
} from '@livescope/contracts';
import type { IHeaders } from 'kafkajs';
import { z } from 'zod';
import { encodeProof, leafHash, merkleProofs } from './batchSignature.js';
import { ProofCache } from './ProofCache.js';
import { parsePrivateKey, parsePublicKey, type SigningKey } from './CommandSigner.js';
import { TransportError } from './TransportError.js';

/** One trusted producer key: its public key and what it may send. */
export interface ProducerKey extends ProducerCapabilities {
  readonly keyId: string;
  readonly publicKey: KeyObject;
}

/**
 * How the worker judged a message's producer signature (mirrors `ProducerVerdict` of the scope
 * engine, which applies it): unsigned, trusted (valid signature by a key allowed to send this type),
 * or refused (forged, unknown key, or a type the key may not send).
 */
export type ProducerCheck =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'trusted'; readonly keyId: string; readonly namespaces?: readonly string[] }
  | { readonly kind: 'refused'; readonly keyId?: string; readonly reason: string };

const UNSIGNED: ProducerCheck = { kind: 'unsigned' };

function header(h: IHeaders | undefined, name: string): Buffer | undefined {
  const v = h?.[name];
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined) return undefined;
  return typeof x === 'string' ? Buffer.from(x, 'binary') : x;
}

/** The JSON form of `LIVESCOPE_PRODUCER_KEYS`: key id → public key, event types and optional namespaces. */
export const ProducerKeysJson = z.record(
  z.string().min(1).max(128),
  z.strictObject({
    /** Ed25519 public key: base64url raw 32 bytes, or SPKI PEM. */
    publicKey: z.string().min(16),
    /** Event types the key may send: exact types, `prefix.*` or `*`. */
    eventTypes: z.array(z.string().min(1)).min(1),
    /** When set, only identities and org-wide events in these namespaces. */
    namespaces: z.array(z.string().min(1)).min(1).optional(),
  }),
);

/**
 * The producer keyring of a worker: which keys may sign which input events. Checks a message's
 * producer signature (Ed25519 over topic, key and value — see `producerSigningPayload`).
 */
export class ProducerKeyring {
  private readonly keys: Map<string, ProducerKey>;
  /** Batch roots whose signature was verified: (key id, signature) → root. Bounded; oldest out first. */
  private readonly verifiedRoots = new Map<string, Buffer>();
  private static readonly VERIFIED_ROOTS_MAX = 4096;
  /** Proven nodes of the latest batches: the rest of a batch costs a hash or two per event, not one per level. */
  private readonly proofs = new ProofCache();

  constructor(keys: readonly ProducerKey[]) {
    this.keys = new Map(keys.map((k) => [k.keyId, k]));
  }

  /** Parses the JSON configuration (see `ProducerKeysJson`); throws a fatal TransportError naming the problem. */
  static fromJson(text: string): ProducerKeyring {
    let parsed: z.infer<typeof ProducerKeysJson>;
    try {
      parsed = ProducerKeysJson.parse(JSON.parse(text));
    } catch (e) {
      throw new TransportError('BAD_KEY', 'fatal', `producer keyring is not valid: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    return new ProducerKeyring(
      Object.entries(parsed).map(([keyId, k]) => ({ keyId, publicKey: parsePublicKey(keyId, k.publicKey).publicKey, eventTypes: k.eventTypes, ...(k.namespaces ? { namespaces: k.namespaces } : {}) })),
    );
  }

  get size(): number {
    return this.keys.size;
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** Judges the producer signature of one message carrying an event of `eventType`. */
  check(topic: string, key: string | null, value: Buffer, headers: IHeaders | undefined, eventType: string): ProducerCheck {
    const kidBytes = header(headers, PRODUCER_KEY_ID_HEADER);
    const sig = header(headers, PRODUCER_SIGNATURE_HEADER);
    if (kidBytes === undefined && sig === undefined) return UNSIGNED;
    const keyId = kidBytes?.toString('utf8').slice(0, 128);
    if (keyId === undefined || sig === undefined) return { kind: 'refused', ...(keyId ? { keyId } : {}), reason: 'a producer signature needs both the key id and the signature header' };
    const k = this.keys.get(keyId);
    if (!k) return { kind: 'refused', keyId, reason: `producer key ${keyId} is not in the keyring` };
    const proof = header(headers, PRODUCER_PROOF_HEADER);
    const payload = producerSigningPayload(topic, key, value);
    if (sig.length !== 64) return { kind: 'refused', keyId, reason: `the producer signature by ${keyId} is not an Ed25519 signature (${sig.length} bytes)` };
    if (proof === undefined) {
      if (!verify(null, payload, k.publicKey, sig)) return { kind: 'refused', keyId, reason: `the producer signature by ${keyId} does not match the message (topic, key and value)` };
    } else {
      const covered = this.proofs.covers(`${keyId}\u0000${sig.toString('base64')}`, producerLeaf(payload), proof, (root) => this.rootVerified(k, sig, root));
      if (covered === undefined) return { kind: 'refused', keyId, reason: `the producer batch proof by ${keyId} is malformed` };
      if (!covered) return { kind: 'refused', keyId, reason: `the producer batch signature by ${keyId} does not cover the message (topic, key and value)` };
    }
    if (!capabilityAllows(k, eventType)) return { kind: 'refused', keyId, reason: `producer key ${keyId} may not send ${eventType}` };
    return { kind: 'trusted', keyId, ...(k.namespaces ? { namespaces: k.namespaces } : {}) };
  }

  /** Whether `sig` by `k` signs the batch `root`: one Ed25519 verification per batch, hashes for the rest of it. */
  private rootVerified(k: ProducerKey, sig: Buffer, root: Buffer): boolean {
    const id = `${k.keyId}\u0000${sig.toString('base64')}`;
    const known = this.verifiedRoots.get(id);
    if (known) return known.equals(root);
    if (!verify(null, producerBatchRootPayload(root), k.publicKey, sig)) return false;
    if (this.verifiedRoots.size >= ProducerKeyring.VERIFIED_ROOTS_MAX) this.verifiedRoots.delete(this.verifiedRoots.keys().next().value!);
    this.verifiedRoots.set(id, root);
    return true;
  }
}

/** The Merkle leaf of one event's signing payload, as signer and keyring both compute it. */
function producerLeaf(payload: Uint8Array): Buffer {
  return leafHash(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
}

/** Signs input events for a producer (the control plane, a provisioning feed, a session issuer). */
export class ProducerSigner {
  constructor(readonly key: SigningKey) {}

  static fromConfig(keyId: string, privateKey: string): ProducerSigner {
    return new ProducerSigner(parsePrivateKey(keyId, privateKey));
  }

  headers(topic: string, key: string | null, value: Buffer): IHeaders {
    return { [PRODUCER_KEY_ID_HEADER]: this.key.kid, [PRODUCER_SIGNATURE_HEADER]: sign(null, producerSigningPayload(topic, key, value), this.key.privateKey) };
  }

  /**
   * Headers for every message of a batch sent to `topic`, with one signature: over the Merkle root
   * of the messages' signing payloads, each message carrying its inclusion proof (still verifiable
   * on its own, bound to its exact topic, key and value). A batch of one is signed as a single message.
   */
  batchHeaders(topic: string, messages: readonly { readonly key: string | null; readonly value: Buffer }[]): IHeaders[] {
    if (messages.length <= 1) return messages.map((m) => this.headers(topic, m.key, m.value));
    const leaves = messages.map((m) => producerLeaf(producerSigningPayload(topic, m.key, m.value)));
    const { root, proofs } = merkleProofs(leaves);
    const sig = sign(null, producerBatchRootPayload(root), this.key.privateKey);
    return proofs.map((siblings, i) => ({ [PRODUCER_KEY_ID_HEADER]: this.key.kid, [PRODUCER_SIGNATURE_HEADER]: sig, [PRODUCER_PROOF_HEADER]: encodeProof(i, messages.length, siblings) }));
  }
}
