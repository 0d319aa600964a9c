import { readFileSync } from 'node:fs';
import { capabilityAllows } from '@livescope/contracts';
import { ProducerSigner } from '@livescope/transport';
import { InteropError } from './InteropError.js';

type Env = Record<string, string | undefined>;

/**
 * A secret from `NAME`, or from the file `NAME_FILE` names (its content, trailing newline removed),
 * so secrets can come from a mounted file instead of the process environment. Both set is an error.
 */
export function secretFromEnv(env: Env, name: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) throw new InteropError('CONFIG', 'fatal', `${name} and ${name}_FILE are both set: give one`);
  if (file) {
    try {
      const v = read(file).replace(/\r?\n$/, '');
      if (!v) throw new InteropError('CONFIG', 'fatal', `${name}_FILE ${file} is empty`);
      return v;
    } catch (cause) {
      if (InteropError.is(cause)) throw cause;
      throw new InteropError('CONFIG', 'fatal', `${name}_FILE: cannot read ${file}: ${(cause as Error).message}`, { cause });
    }
  }
  return direct || undefined;
}

/** The producer identity of a shell that writes input events: a signing key and the types it may send. */
export interface ProducerIdentity {
  /** Signs every event published (absent: events go unsigned, as observations). */
  readonly signer?: ProducerSigner;
  readonly keyId?: string;
  /** Whether the key may send a control event type; false for all without a key. */
  readonly allows: (eventType: string) => boolean;
}

/**
 * `LIVESCOPE_PRODUCER_KEY_ID` + `LIVESCOPE_PRODUCER_KEY` (or `_FILE`): an Ed25519 key (base64url raw
 * seed or PKCS#8 PEM) that signs everything the shell publishes. `LIVESCOPE_PRODUCER_EVENT_TYPES`
 * (comma-separated, `entitlement.*`, `*`…; default `*`) says which control event types the operator
 * granted the key in the workers' keyring, so the shell withholds the others instead of sending
 * events the workers would refuse. Without a key, no control event is ever sent.
 */
export function producerIdentityFromEnv(env: Env, read?: (path: string) => string): ProducerIdentity {
  const key = secretFromEnv(env, 'LIVESCOPE_PRODUCER_KEY', read);
  const keyId = env.LIVESCOPE_PRODUCER_KEY_ID;
  if (!key) {
    if (keyId) throw new InteropError('CONFIG', 'fatal', 'LIVESCOPE_PRODUCER_KEY_ID is set without LIVESCOPE_PRODUCER_KEY or LIVESCOPE_PRODUCER_KEY_FILE');
    return { allows: () => false };
  }
  if (!keyId || !/^[\x21-\x7e]{1,128}$/.test(keyId)) throw new InteropError('CONFIG', 'fatal', 'LIVESCOPE_PRODUCER_KEY_ID is required with LIVESCOPE_PRODUCER_KEY: the key id the workers\' keyring (LIVESCOPE_PRODUCER_KEYS) knows it by');
  let signer: ProducerSigner;
  try {
    signer = ProducerSigner.fromConfig(keyId, key);
  } catch (cause) {
    throw new InteropError('CONFIG', 'fatal', `LIVESCOPE_PRODUCER_KEY: not an Ed25519 private key (base64url raw 32-byte seed, or PKCS#8 PEM): ${(cause as Error).message}`, { cause });
  }
  const eventTypes = (env.LIVESCOPE_PRODUCER_EVENT_TYPES ?? '*').split(',').map((t) => t.trim()).filter(Boolean);
  return { signer, keyId, allows: (type) => capabilityAllows({ eventTypes }, type) };
}
