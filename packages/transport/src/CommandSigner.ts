import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import { batchRootPayload, encodeProof, leafHash, MERKLE_HEADER, merkleProofs } from './batchSignature.js';
import { ProofCache } from './ProofCache.js';
import { TransportError } from './TransportError.js';

/** Kafka headers that carry a command's Ed25519 signature, its key id and the key's epoch. */
export const SIGNATURE_HEADER = 'livescope-sig';
export const KEY_ID_HEADER = 'livescope-kid';
export const EPOCH_HEADER = 'livescope-epoch';

const COMMAND_DOMAIN = 'livescope.command.v2';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export interface VerifyingKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
  /** The epoch this key signs at; when set, a command must carry exactly it. */
  readonly epoch?: number;
}

/** One message to sign: where it goes and what it holds. */
export interface SignedMessageParts {
  readonly topic: string;
  readonly key: string | null;
  readonly value: Buffer;
}

/**
 * The bytes a command signature covers: a domain tag, the topic, the message key (the identity id
 * for commands about an identity), the signing key's epoch, and the exact value (which holds the
 * identity id and the version). So a signed command cannot be moved to another topic (a change
 * replayed as a snapshot), re-keyed to another identity, or presented as signed at another epoch.
 */
export function commandSigningPayload(topic: string, key: string | null, epoch: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${COMMAND_DOMAIN}\n${topic}\n${key ?? ''}\n${epoch}\n`, 'utf8'), value]);
}

/**
 * Signs commands with the active key. Rotation: start signing with a new kid at a higher epoch;
 * verifiers hold both keys for a while, then raise their minimum epoch so the old key's commands
 * can no longer be replayed.
 */
export class CommandSigner {
  constructor(
    readonly key: SigningKey,
    /** Epoch of the key, bound into every signature. Default 1. */
    readonly epoch = 1,
  ) {}

  headers(topic: string, key: string | null, value: Buffer): IHeaders {
    return this.headersOf(this.sign(topic, key, value));
  }

  /** The Ed25519 signature of a message (deterministic). */
  sign(topic: string, key: string | null, value: Buffer): Buffer {
    return sign(null, this.payload(topic, key, value), this.key.privateKey);
  }

  /** The bytes signed for a message with this key's epoch. */
  payload(topic: string, key: string | null, value: Buffer): Buffer {
    return commandSigningPayload(topic, key, this.epoch, value);
  }

  /** The headers that carry a signature made with this key (on any thread). */
  headersOf(signature: Buffer): IHeaders {
    return { [KEY_ID_HEADER]: this.key.kid, [EPOCH_HEADER]: String(this.epoch), [SIGNATURE_HEADER]: signature };
  }

  /**
   * Signs a whole batch with ONE Ed25519 signature over the Merkle root of the messages' signing
   * payloads (see batchSignature.ts); each message gets the root's signature and its own inclusion
   * proof. A batch of one is signed singly (no proof).
   */
  signBatch(messages: readonly SignedMessageParts[]): IHeaders[] {
    if (messages.length === 0) return [];
    if (messages.length === 1) return [this.headers(messages[0]!.topic, messages[0]!.key, messages[0]!.value)];
    const leaves = messages.map((m) => leafHash(this.payload(m.topic, m.key, m.value)));
    const { root, proofs } = merkleProofs(leaves);
    const signature = sign(null, batchRootPayload(this.epoch, root), this.key.privateKey);
    return proofs.map((siblings, i) => ({ ...this.headersOf(signature), [MERKLE_HEADER]: encodeProof(i, messages.length, siblings) }));
  }
}

export interface CommandVerifierOptions {
  /** Commands signed at a lower epoch are refused (after a key rotation). Default 0. */
  readonly minEpoch?: number;
  /** Batch roots whose signature was verified, kept to verify the rest of their batch with hashes only. Default 1024. */
  readonly verifiedRoots?: number;
}

/** Verifies command signatures against a set of trusted public keys (several during a key rotation). */
export class CommandVerifier {
  private readonly keys: Map<string, VerifyingKey>;
  private readonly minEpoch: number;
  /** `kid|epoch|root hex` of batch roots already verified (insertion order: the oldest go first). */
  private readonly roots = new Set<string>();
  private readonly maxRoots: number;
  /** Proven nodes of the latest batches: the rest of a batch costs a hash or two per command, not one per level. */
  private readonly proofs = new ProofCache();
  /** Ed25519 verifications made (a batch costs one); for metrics and benchmarks. */
  signatureChecks = 0;

  constructor(keys: readonly VerifyingKey[], options: CommandVerifierOptions = {}) {
    this.keys = new Map(keys.map((k) => [k.kid, k]));
    this.minEpoch = options.minEpoch ?? 0;
    this.maxRoots = options.verifiedRoots ?? 1024;
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * Checks the signature of a message read from `topic` with `key`. Throws a `poison` TransportError
   * when it is unsigned, signed by an unknown key or at a refused epoch, or forged (including a
   * genuine signature moved to another topic or key). Returns the key id and epoch.
   */
  check(topic: string, key: string | null, value: Buffer, headers: IHeaders | undefined): { kid: string; epoch: number } {
    const kid = headerString(headers?.[KEY_ID_HEADER]);
    const sig = headerBuffer(headers?.[SIGNATURE_HEADER]);
    if (kid === undefined || sig === undefined) throw new TransportError('SIGNATURE_MISSING', 'poison', 'command is not signed');
    const trusted = this.keys.get(kid);
    if (!trusted) throw new TransportError('UNKNOWN_KEY_ID', 'poison', `command is signed with unknown key id ${kid.slice(0, 128)}`);
    const epochText = headerString(headers?.[EPOCH_HEADER]);
    const epoch = epochText === undefined ? Number.NaN : Number(epochText);
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new TransportError('SIGNATURE_INVALID', 'poison', `command signed by ${kid} carries no valid key epoch`);
    if (epoch < this.minEpoch || (trusted.epoch !== undefined && epoch !== trusted.epoch)) {
      throw new TransportError('KEY_EPOCH_REFUSED', 'poison', `command signed by ${kid} at epoch ${epoch}, which is refused (minimum ${this.minEpoch}${trusted.epoch !== undefined ? `, key epoch ${trusted.epoch}` : ''})`);
    }
    const proof = headerBuffer(headers?.[MERKLE_HEADER]);
    const payload = commandSigningPayload(topic, key, epoch, value);
    if (proof !== undefined) {
      const verifyRoot = (root: Buffer): boolean => {
        const id = `${kid}|${epoch}|${root.toString('hex')}`;
        if (this.roots.has(id)) return true;
        this.signatureChecks++;
        if (sig.length !== 64 || !verify(null, batchRootPayload(epoch, root), trusted.publicKey, sig)) return false;
        this.roots.add(id);
        if (this.roots.size > this.maxRoots) this.roots.delete(this.roots.values().next().value!);
        return true;
      };
      const covered = this.proofs.covers(`${kid}|${epoch}|${sig.toString('base64')}`, leafHash(payload), proof, verifyRoot);
      if (covered === undefined) throw new TransportError('SIGNATURE_INVALID', 'poison', `the batch proof of the command signed by ${kid} is malformed`);
      if (!covered) throw new TransportError('SIGNATURE_INVALID', 'poison', `batch signature by ${kid} does not cover the command on ${topic} for key ${String(key).slice(0, 256)}`);
      return { kid, epoch };
    }
    this.signatureChecks++;
    if (sig.length !== 64 || !verify(null, payload, trusted.publicKey, sig)) {
      throw new TransportError('SIGNATURE_INVALID', 'poison', `signature by ${kid} does not match the command on ${topic} for key ${String(key).slice(0, 256)}`);
    }
    return { kid, epoch };
  }
}

function headerString(h: IHeaders[string]): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined ? undefined : v.toString();
}
function headerBuffer(h: IHeaders[string]): Buffer | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return undefined;
  return typeof v === 'string' ? Buffer.from(v, 'binary') : v;
}

/** Key material in configuration: PEM (PKCS#8 private, SPKI public) or base64url raw 32-byte keys. */
export function parsePrivateKey(kid: string, material: string): SigningKey {
  return { kid, privateKey: material.includes('BEGIN') ? createPrivateKey(material) : createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: material.trim(), x: derivePublicX(material.trim()) }, format: 'jwk' }) };
}

export function parsePublicKey(kid: string, material: string): VerifyingKey {
  return { kid, publicKey: material.includes('BEGIN') ? createPublicKey(material) : createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: material.trim() }, format: 'jwk' }) };
}

function derivePublicX(d: string): string {
  // Ed25519 JWK import needs x; derive it by importing the PKCS#8 form built from the seed.
  const seed = Buffer.from(d, 'base64url');
  if (seed.length !== 32) throw new TransportError('BAD_KEY', 'fatal', 'an Ed25519 private key must be 32 bytes (base64url)');
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const pub = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  return (pub.export({ format: 'jwk' }) as { x: string }).x;
}

/** A fresh key pair, as base64url raw keys (for development and tests). */
export function generateSigningKeyPair(kid: string): { kid: string; privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as { d: string; x: string };
  void publicKey;
  return { kid, privateKey: jwk.d, publicKey: jwk.x };
}
