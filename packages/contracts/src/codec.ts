import type { z } from 'zod';
import { ContractError } from './ContractError.js';
import { LivescopeEvent } from './events.js';
import { fastEvent } from './fastEvents.js';
import { parseWith } from './validation.js';
import { decodeWire, encodeWireJson, parseJsonPayload } from './wire.js';

export interface DecodeOptions {
  /** Largest accepted message value in bytes; larger is poison (`oversized`). */
  readonly maxBytes: number;
  /** Whether a schema id found in the wire header belongs to the expected subject. */
  readonly isKnownSchemaId: (schemaId: number) => boolean;
}

/**
 * Decodes one message value: wire header, schema id, JSON, schema. Throws a ContractError whose
 * `code` is the dead-letter reason. The value is validated with the zod contract, which is the
 * same schema the registry holds (generated from it).
 */
export function decodeMessage<S extends z.ZodType>(schema: S, value: Buffer | null, options: DecodeOptions, what: string): z.infer<S> {
  return parseWith(schema, decodeJson(value, options), what);
}

/** Size limit, wire header, known schema id, JSON: everything `decodeMessage` does but the schema. */
export function decodeJson(value: Buffer | null, options: DecodeOptions): unknown {
  if (value && value.length > options.maxBytes) {
    throw new ContractError('oversized', `message of ${value.length} bytes exceeds the limit of ${options.maxBytes} bytes`);
  }
  const frame = decodeWire(value);
  if (!options.isKnownSchemaId(frame.schemaId)) {
    throw new ContractError('unknown-schema-id', `schema id ${frame.schemaId} is not a version of the expected subject`);
  }
  return parseJsonPayload(frame.payload);
}

/** Decodes an input event; the hot event types are validated by `fastEvent`, the rest (and anything it declines) by zod. */
export function decodeEvent(value: Buffer | null, options: DecodeOptions): LivescopeEvent {
  const json = decodeJson(value, options);
  return fastEvent(json) ?? parseWith(LivescopeEvent, json, 'event');
}

/** Encodes a value that is already known to satisfy its schema (outputs the worker built itself). */
export function encodeTrusted(schemaId: number, value: unknown): Buffer {
  return encodeWireJson(schemaId, value);
}
