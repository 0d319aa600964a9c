import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/**
 * SHA-256 over the UTF-8 bytes of a string, as lowercase hex. From `@noble/hashes` (audited, no
 * dependencies): synchronous, as the mapping code that derives stable ids is, and free of
 * `node:crypto`, which this pure package does not import (Web Crypto's digest is asynchronous).
 */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}
