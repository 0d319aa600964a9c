import { CommandVerifier, parsePublicKey, SIGNATURE_HEADER, type VerifyingKey } from '@livescope/transport';
import type { IHeaders } from 'kafkajs';

/** How an acknowledgement was judged: counted as verified, counted as unverified, or dropped. */
export type AckVerdict = { readonly kind: 'verified'; readonly kid: string } | { readonly kind: 'unverified' } | { readonly kind: 'refused'; readonly reason: AckRefusal; readonly detail: string };
export type AckRefusal = 'key-mismatch' | 'unsigned' | 'no-key' | 'bad-signature';

/** Enforcement point id → its acknowledgement keys (several during a rotation). */
export type EnforcerKeys = ReadonlyMap<string, readonly VerifyingKey[]>;

/**
 * Whose acknowledgements count. An enforcement point's id is self-declared: anyone who may write
 * the acknowledgements topic could claim to be `gw-7` and report it applied an order it never saw.
 * An enforcement point with keys configured here must sign (Enforcer `ackSigningKey`) and is
 * verified against its own keys only — a genuine key of another enforcement point does not pass;
 * with `requireSigned`, enforcement points without keys are not counted at all. Everything else
 * counts as `unverified`, and every figure built from it says so.
 */
export class AckAuthenticator {
  private readonly verifiers = new Map<string, CommandVerifier>();

  constructor(
    keys: EnforcerKeys,
    private readonly requireSigned: boolean,
  ) {
    for (const [enforcerId, ks] of keys) this.verifiers.set(enforcerId, new CommandVerifier(ks));
  }

  get enforcersWithKeys(): number {
    return this.verifiers.size;
  }

  /** Judges one message of the acknowledgements topic, whose decoded body names `enforcerId`. */
  judge(topic: string, key: string | null, value: Buffer, headers: IHeaders | undefined, enforcerId: string): AckVerdict {
    // The message key is what the signature binds; a body naming another enforcement point is a splice.
    if (key !== enforcerId) return { kind: 'refused', reason: 'key-mismatch', detail: `message key ${String(key).slice(0, 128)} is not the enforcer id ${enforcerId.slice(0, 128)} in the acknowledgement` };
    const verifier = this.verifiers.get(enforcerId);
    const signed = headers?.[SIGNATURE_HEADER] !== undefined;
    if (verifier === undefined) {
      if (this.requireSigned) return { kind: 'refused', reason: 'no-key', detail: `no acknowledgement key is configured for enforcement point ${enforcerId.slice(0, 128)} (LIVESCOPE_API_ENFORCER_KEYS) and signed acknowledgements are required` };
      return { kind: 'unverified' };
    }
    if (!signed) return { kind: 'refused', reason: 'unsigned', detail: `enforcement point ${enforcerId.slice(0, 128)} has acknowledgement keys configured, but this acknowledgement is unsigned` };
    try {
      return { kind: 'verified', kid: verifier.check(topic, key, value, headers).kid };
    } catch (e) {
      return { kind: 'refused', reason: 'bad-signature', detail: `acknowledgement of ${enforcerId.slice(0, 128)}: ${(e as Error).message}` };
    }
  }
}

/**
 * `LIVESCOPE_API_ENFORCER_KEYS`: JSON `{ "<enforcer id>": { "<key id>": "<Ed25519 public key>" } }`,
 * keys as base64url raw 32 bytes or SPKI PEM. Throws with a message naming what is wrong.
 */
export function parseEnforcerKeys(text: string): Map<string, VerifyingKey[]> {
  const out = new Map<string, VerifyingKey[]>();
  if (text.trim() === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('is not JSON: expected { "<enforcer id>": { "<key id>": "<Ed25519 public key>" } }');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('must be a JSON object of enforcer id → { key id → public key }');
  for (const [enforcerId, keys] of Object.entries(parsed as Record<string, unknown>)) {
    if (enforcerId === '' || enforcerId.length > 256) throw new Error(`enforcer id "${enforcerId.slice(0, 64)}" must be 1–256 characters`);
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys) || Object.keys(keys).length === 0) throw new Error(`${enforcerId}: expected a non-empty object of key id → public key`);
    const list: VerifyingKey[] = [];
    for (const [kid, material] of Object.entries(keys as Record<string, unknown>)) {
      if (typeof material !== 'string') throw new Error(`${enforcerId}/${kid}: the public key must be a string`);
      try {
        const k = parsePublicKey(kid, material);
        if (k.publicKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
        list.push(k);
      } catch (e) {
        throw new Error(`${enforcerId}/${kid}: not an Ed25519 public key (${(e as Error).message})`);
      }
    }
    out.set(enforcerId, list);
  }
  return out;
}
