import { describe, expect, it } from 'vitest';
import {
  ContractError,
  decodeEvent,
  encodeWireJson,
  eventTypes,
  isBroadcastEvent,
  jsonSchemaOf,
  LivescopeEvent,
  subjectSpecs,
  type LivescopeEventInput,
} from './index.js';

const options = { maxBytes: 64 * 1024, isKnownSchemaId: (id: number) => id === 7 };

const sessionStarted: LivescopeEventInput = {
  specversion: '1.0',
  id: 'evt-1',
  type: 'session.started',
  source: 'test',
  time: '2026-11-28T12:00:00Z',
  subject: 'sa-build-1',
  data: { sessionId: 's-1', task: 'build' },
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (ContractError.is(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('event codec', () => {
  it('round-trips an event through the wire format and applies defaults', () => {
    const decoded = decodeEvent(encodeWireJson(7, sessionStarted), options);
    expect(decoded.type).toBe('session.started');
    if (decoded.type !== 'session.started') throw new Error('unreachable');
    expect(decoded.data.mfa).toBe(false);
    expect(decoded.data.system).toBe('livescope');
  });

  it('classifies each kind of bad input with its dead-letter reason', () => {
    expect(codeOf(() => decodeEvent(Buffer.from('{"hello":1}'), options))).toBe('not-wire-format');
    expect(codeOf(() => decodeEvent(Buffer.from([1, 0, 0, 0, 7, 123]), options))).toBe('not-wire-format');
    expect(codeOf(() => decodeEvent(null, options))).toBe('not-wire-format');
    expect(codeOf(() => decodeEvent(encodeWireJson(8, sessionStarted), options))).toBe('unknown-schema-id');
    const notJson = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from('{not json')]);
    expect(codeOf(() => decodeEvent(notJson, options))).toBe('not-json');
    expect(codeOf(() => decodeEvent(encodeWireJson(7, { ...sessionStarted, data: { sessionId: 's' , mfa: 'yes' } }), options))).toBe('schema-invalid');
    const big = encodeWireJson(7, { ...sessionStarted, data: { sessionId: 's', task: 'x'.repeat(70_000) } });
    expect(codeOf(() => decodeEvent(big, options))).toBe('oversized');
  });

  it('names the failing field path', () => {
    try {
      decodeEvent(encodeWireJson(7, { ...sessionStarted, time: 'yesterday' }), options);
      expect.unreachable();
    } catch (e) {
      expect(ContractError.is(e) && e.paths).toEqual(['time']);
    }
  });

  it('rejects unknown fields and unknown types', () => {
    expect(LivescopeEvent.safeParse({ ...sessionStarted, extra: 1 }).success).toBe(false);
    expect(LivescopeEvent.safeParse({ ...sessionStarted, type: 'session.exploded' }).success).toBe(false);
  });

  it('requires a subject on identity events and forbids it on broadcast events', () => {
    const { subject: _omit, ...noSubject } = sessionStarted;
    expect(LivescopeEvent.safeParse(noSubject).success).toBe(false);
    const incident = { specversion: '1.0', id: 'e2', type: 'org.incident-mode', source: 't', time: '2026-11-28T12:00:00Z', data: { incidentId: 'i', namespace: 'payments', active: true } };
    const parsed = LivescopeEvent.parse(incident);
    expect(isBroadcastEvent(parsed)).toBe(true);
    expect(LivescopeEvent.safeParse({ ...incident, subject: 'x' }).success).toBe(false);
  });

  it('lists every event type once', () => {
    expect(new Set(eventTypes).size).toBe(eventTypes.length);
    expect(eventTypes.length).toBeGreaterThan(30);
  });
});

describe('JSON Schemas for the registry', () => {
  it.each(subjectSpecs.map((s) => [s.subject, s] as const))('%s generates a draft-07 schema', (_name, spec) => {
    const schema = jsonSchemaOf(spec);
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(JSON.stringify(schema).length).toBeGreaterThan(100);
  });
});
