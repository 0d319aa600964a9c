import { ContractError } from './ContractError.js';

/**
 * The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the payload
 * (here always UTF-8 JSON). Pure functions over bytes; the registry client lives in the transport.
 */
export const MAGIC_BYTE = 0;
export const WIRE_HEADER_BYTES = 5;

export function encodeWire(schemaId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(WIRE_HEADER_BYTES + payload.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  payload.copy(out, WIRE_HEADER_BYTES);
  return out;
}

export function encodeWireJson(schemaId: number, value: unknown): Buffer {
  return encodeWire(schemaId, Buffer.from(JSON.stringify(value), 'utf8'));
}

export interface WireFrame {
  readonly schemaId: number;
  readonly payload: Buffer;
}

export function decodeWire(bytes: Buffer | null | undefined): WireFrame {
  if (!bytes || bytes.length < WIRE_HEADER_BYTES) {
    throw new ContractError('not-wire-format', `message of ${bytes?.length ?? 0} bytes is shorter than the 5-byte wire-format header`);
  }
  if (bytes[0] !== MAGIC_BYTE) {
    throw new ContractError('not-wire-format', `magic byte is ${bytes[0]}, expected ${MAGIC_BYTE} (Confluent wire format)`);
  }
  return { schemaId: bytes.readUInt32BE(1), payload: bytes.subarray(WIRE_HEADER_BYTES) };
}

export function parseJsonPayload(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch (cause) {
    throw new ContractError('not-json', `payload is not JSON: ${(cause as Error).message}`, { cause });
  }
}
