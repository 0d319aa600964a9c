import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from './codec.js';
import { ContractError } from './ContractError.js';
import { LivescopeEvent } from './events.js';
import { fastEvent, fastEventTypes } from './fastEvents.js';
import { encodeWire } from './wire.js';

/**
 * Hostile JSON (issue 13): arbitrary values — every Object.prototype name as a type and as keys,
 * deep nesting, huge and non-finite numbers, long strings, unicode — through the fast path and zod.
 * The fast path never accepts what zod rejects, and decoding never throws anything but a
 * classified ContractError.
 */
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).concat(['__proto__', 'prototype', 'then', 'toJSON']);
const TYPES = [...PROTO_NAMES, ...fastEventTypes, 'identity.created', 'order.issued', 'policies.published', ''];
const T = '2026-11-28T12:00:00Z';

/** JSON text with these keys at any depth (JSON.parse makes `__proto__` an own property, as a producer can send it). */
const key = fc.oneof(fc.constantFrom(...PROTO_NAMES, 'sessionId', 'score', 'action', 'resource', 'data', 'type'), fc.string({ maxLength: 20 }));
const scalar = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -0, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 0.5, 100, 101, -1, '', T),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.string({ maxLength: 40, unit: 'grapheme' }),
  fc.string({ minLength: 500, maxLength: 2000 }),
);
const { value: jsonValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 5 })),
}));

/** Events close to valid ones: a real envelope with a hostile type, subject, or data. */
const envelope = fc.record({
  specversion: fc.constantFrom<unknown>('1.0', '1.1', 1),
  id: fc.oneof(fc.constant('evt-1'), fc.string({ maxLength: 300 })),
  source: fc.constantFrom<unknown>('sim', '', 'x'.repeat(300)),
  time: fc.constantFrom<unknown>(T, '2026-11-28T12:00:00', 'yesterday', 1e12),
  type: fc.constantFrom(...TYPES),
  subject: fc.oneof(fc.constant('agent-1'), fc.constantFrom(...PROTO_NAMES), fc.string({ maxLength: 300 })),
  data: jsonValue,
});

/** Deeply nested text (JSON.parse must not be asked to build it as JS recursion). */
const deep = fc.integer({ min: 100, max: 20_000 }).map((depth) => `{"specversion":"1.0","id":"e","source":"s","time":"${T}","type":"telemetry.activity","subject":"a","data":${'['.repeat(depth)}${']'.repeat(depth)}}`);

function decodeText(text: string): unknown {
  return decodeEvent(encodeWire(1, Buffer.from(text)), { maxBytes: 4 * 1024 * 1024, isKnownSchemaId: () => true });
}

describe('hostile JSON', () => {
  it('the fast path never accepts what zod rejects, and agrees with zod on what it accepts', () => {
    fc.assert(
      fc.property(fc.oneof(envelope, jsonValue), (value) => {
        const json = JSON.parse(JSON.stringify(value)) as unknown;
        const zod = LivescopeEvent.safeParse(structuredClone(json));
        const fast = fastEvent(structuredClone(json));
        if (fast !== undefined) {
          expect(zod.success).toBe(true);
          expect(fast).toEqual(zod.data);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('every Object.prototype name as the type is refused as schema-invalid', () => {
    for (const type of PROTO_NAMES) {
      const text = JSON.stringify({ specversion: '1.0', id: 'e', source: 's', time: T, type, subject: 'a', data: { reject: 1 } });
      expect(() => decodeText(text), type).toThrow(ContractError);
      try {
        decodeText(text);
      } catch (e) {
        expect(ContractError.is(e) && e.code, type).toBe('schema-invalid');
      }
    }
  });

  it('decoding throws nothing but a classified ContractError, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(envelope.map((e) => JSON.stringify(e)), jsonValue.map((v) => JSON.stringify(v) ?? 'null'), deep, fc.string({ maxLength: 200 })), (text) => {
        try {
          decodeText(text);
        } catch (e) {
          expect(ContractError.is(e), String(e)).toBe(true);
          expect((e as ContractError).classification).toBe('poison');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keys named after Object.prototype members never pollute a prototype', () => {
    const text = `{"specversion":"1.0","id":"e","source":"s","time":"${T}","type":"telemetry.activity","subject":"a","data":{"action":"db:read","resource":"r","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}`;
    expect(() => decodeText(text)).toThrow(ContractError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
