import { describe, expect, it } from 'vitest';
import { IdempotencyKey, requestFingerprint, stableJson } from './idempotency.js';

describe('Idempotency-Key', () => {
  it('takes 1-255 visible ASCII characters, bare or quoted', () => {
    expect(IdempotencyKey.parse('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(IdempotencyKey.parse('"8e03978e"')).toBe('8e03978e');
    expect(IdempotencyKey.parse('x'.repeat(255))).toHaveLength(255);
    for (const bad of ['', 'has space', 'x'.repeat(256), '"', '""', 'a"b', 'café', '"open']) expect(IdempotencyKey.safeParse(bad).success, bad).toBe(false);
  });
});

describe('request fingerprints', () => {
  it('are equal for equal requests, whatever the order of fields', () => {
    expect(stableJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}');
    const a = requestFingerprint('issueOrder', { kind: 'read-only', target: { identityId: 'w1' }, reason: 'r', ttlSeconds: 60 });
    expect(requestFingerprint('issueOrder', { ttlSeconds: 60, reason: 'r', target: { identityId: 'w1' }, kind: 'read-only' })).toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differ for another body or another operation', () => {
    const a = requestFingerprint('issueOrder', { kind: 'read-only', target: { identityId: 'w1' }, reason: 'r' });
    expect(requestFingerprint('issueOrder', { kind: 'read-only', target: { identityId: 'w2' }, reason: 'r' })).not.toBe(a);
    expect(requestFingerprint('liftOrder', { kind: 'read-only', target: { identityId: 'w1' }, reason: 'r' })).not.toBe(a);
  });
});
