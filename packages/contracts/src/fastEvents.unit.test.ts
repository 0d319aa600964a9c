import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LivescopeEvent } from './events.js';
import { fastEvent, fastEventTypes } from './fastEvents.js';

/**
 * The hand-written decoder of hot events may only accept what zod accepts, with an equal result.
 * Valid events of every fast type, and random mutations of them (keys removed, added, values
 * replaced by arbitrary JSON, strings at and past their limits), are given to both.
 */
const T = '2026-11-28T12:00:00Z';
const base = (type: string, data: Record<string, unknown>): Record<string, unknown> => ({ specversion: '1.0', id: 'evt-1', source: 'sim', time: T, type, subject: 'agent-1', data });
const valid: Record<string, unknown>[] = [
  base('telemetry.risk-scored', { score: 10 }),
  base('telemetry.risk-scored', { score: 100, model: 'baseline' }),
  base('telemetry.activity', { action: 'db:read', resource: 'db/pay', count: 3 }),
  base('telemetry.activity', { action: 'k8s:deploy', resource: 'k8s/x' }),
  base('session.started', { sessionId: 's1' }),
  base('session.started', { sessionId: 's1', task: 'etl', mfa: true, tokenId: 't1', system: 'idp', expiresAt: '2026-11-28T13:00:00.123+01:00' }),
  base('session.ended', { sessionId: 's1', reason: 'done' }),
  base('session.ended', { sessionId: 's1' }),
  base('session.task-completed', { sessionId: 's1' }),
  base('telemetry.anomaly-detected', { anomalyId: 'an1', kind: 'geo', severity: 'high', expiresAt: T }),
  base('secret.accessed', { secretPath: 'secret/x', operation: 'read' }),
  base('secret.accessed', { secretPath: 'secret/x', operation: 'list', leaseId: 'l1', sessionId: 's1', system: 'vault-2' }),
];

const edgeValues: unknown[] = [
  '',
  ' ',
  'x'.repeat(256),
  'x'.repeat(257),
  'x'.repeat(1025),
  'a b',
  'é',
  '2026-02-30T12:00:00Z',
  '2026-11-28T12:00:00',
  '2026-11-28T12:00:00.5-05:30',
  -1,
  0,
  -0,
  1.5,
  101,
  1_000_001,
  2 ** 53,
  true,
  false,
  null,
  [],
  {},
  'db:read',
  '1.0',
  'read',
  'critical',
  'nope',
];

const clone = <T>(x: T): T => structuredClone(x);

function agree(input: Record<string, unknown>): void {
  const fast = fastEvent(clone(input));
  if (fast === undefined) return;
  const slow = LivescopeEvent.safeParse(clone(input));
  expect(slow.success, `fast path accepted what zod rejects: ${JSON.stringify(input)}`).toBe(true);
  expect(fast).toEqual(slow.data);
}

describe('fastEvent', () => {
  it('accepts every valid event of its types, exactly as zod parses it', () => {
    for (const e of valid) {
      const fast = fastEvent(clone(e));
      expect(fast, JSON.stringify(e)).toBeDefined();
      expect(fast).toEqual(LivescopeEvent.parse(clone(e)));
    }
    expect(new Set(valid.map((e) => e.type))).toEqual(new Set(fastEventTypes));
  });

  it('declines other types (zod decides)', () => {
    expect(fastEvent({ ...base('identity.created', { kind: 'agent', name: 'a', namespace: 'n', owner: 'o' }) })).toBeUndefined();
    expect(fastEvent('not an object')).toBeUndefined();
    expect(fastEvent(null)).toBeUndefined();
  });

  it('never accepts what zod rejects, under random mutations', () => {
    const path = fc.constantFrom<'envelope' | 'data'>('envelope', 'data');
    const value = fc.oneof(fc.constantFrom(...edgeValues), fc.jsonValue({ maxDepth: 2 }));
    const mutation = fc.record({ where: path, op: fc.constantFrom('delete', 'set', 'add'), key: fc.nat(10), value, extra: fc.string({ maxLength: 12 }) });
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 3 }), (e, ms) => {
        const x = clone(e);
        for (const m of ms) {
          const target = m.where === 'envelope' ? x : (x.data as Record<string, unknown>);
          if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
          const keys = Object.keys(target);
          const key = keys[m.key % Math.max(1, keys.length)] ?? 'k';
          if (m.op === 'delete') delete target[key];
          else if (m.op === 'set') target[key] = m.value;
          else target[m.extra || 'extra'] = m.value;
        }
        agree(x);
      }),
      { numRuns: 5000 },
    );
  });
});
