import { verify } from 'node:crypto';
import { releaseWindowSigningPayload } from '@livescope/contracts';
import type { ReleaseWindowVerifier } from '@livescope/scope-engine';
import { parsePublicKey } from '@livescope/transport';

/**
 * Release windows widen scope (deploys become possible), so they must be signed by a configured
 * release manager: Ed25519 over `releaseWindowSigningPayload`, signature base64url.
 */
export function releaseWindowVerifier(signers: Readonly<Record<string, string>>): ReleaseWindowVerifier {
  const keys = new Map(Object.entries(signers).map(([name, material]) => [name, parsePublicKey(name, material).publicKey]));
  return (w) => {
    const key = keys.get(w.signedBy);
    if (!key) return false;
    try {
      return verify(null, Buffer.from(releaseWindowSigningPayload(w)), key, Buffer.from(w.signature, 'base64url'));
    } catch {
      return false;
    }
  };
}
