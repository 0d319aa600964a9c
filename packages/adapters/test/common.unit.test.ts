import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../src/common/BoundedMap.js';
import { canonicalJson } from '../src/common/canonicalJson.js';
import { idPart, labelsOf } from '../src/common/eventBuilders.js';
import { isOversized, JsonRecordSplitter, type SplitOutput } from '../src/common/JsonRecordSplitter.js';
import { normalizeTime, parseAwsExpiration } from '../src/common/normalizeTime.js';
import { sha256Hex } from '../src/common/sha256.js';
import { fixture } from './support.js';

const values = (outs: SplitOutput[]) => outs.map((o) => (isOversized(o) ? { oversized: o.raw.length } : o.parsed.ok ? o.parsed.value : { error: o.raw }));

function splitInChunks(text: string, size: number, options?: ConstructorParameters<typeof JsonRecordSplitter>[0]): SplitOutput[] {
  const s = new JsonRecordSplitter(options);
  const out: SplitOutput[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...s.push(text.slice(i, i + size)));
  out.push(...s.end());
  return out;
}

describe('sha256Hex', () => {
  it('matches node:crypto on ASCII, multi-byte text and block boundaries', () => {
    for (const s of ['', 'abc', 'é漢字🙂', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'y'.repeat(1000)]) {
      expect(sha256Hex(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
    }
  });
});

describe('JsonRecordSplitter', () => {
  it('splits JSON lines, whatever the chunk boundaries', () => {
    const text = fixture('vault-audit/vault-guides-lab-audit-subset.jsonl');
    const whole = values(splitInChunks(text, text.length));
    expect(whole).toHaveLength(20);
    for (const size of [1, 7, 64, 4096]) expect(values(splitInChunks(text, size))).toEqual(whole);
  });

  it('splits a CloudTrail Records file into its events without keeping the wrapper', () => {
    const out = values(splitInChunks(fixture('cloudtrail/awsdocs-cloudtrail-records-errorcode-example.json'), 5));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ eventName: 'UpdateTrail', eventID: 'b7d4398e-b2f0-4faa-9c76-e2d316a8d67f' });
    const oneLine = JSON.stringify({ Records: [{ a: 1 }, { b: [2, { c: '}' }] }], other: 'x' });
    expect(values(splitInChunks(`${oneLine}\n${oneLine}`, 3))).toEqual([{ a: 1 }, { b: [2, { c: '}' }] }, { a: 1 }, { b: [2, { c: '}' }] }]);
  });

  it('reads a pretty-printed object, concatenated values and a top-level array', () => {
    expect(values(splitInChunks(fixture('vault-audit/vault-guides-governance-approle-write-example.json'), 10))).toHaveLength(1);
    expect(values(splitInChunks('{"a":"x\\"}"}{"b":2} [ {"c":3} , {"d":4} ]', 2, { layout: 'json' }))).toEqual([{ a: 'x"}' }, { b: 2 }, { c: 3 }, { d: 4 }]);
  });

  it('turns text lines into records the adapter can judge (a JWT, garbage) and resynchronises after a cut JSON line', () => {
    const text = ['{"ok":1}', 'eyJhbGciOiJSUzI1NiJ9.e30.sig', '{"cut": ', '{"ok":2}', 'not json'].join('\n');
    expect(values(splitInChunks(text, 4))).toEqual([{ ok: 1 }, { error: 'eyJhbGciOiJSUzI1NiJ9.e30.sig' }, { error: '{"cut":' }, { ok: 2 }, { error: 'not json' }]);
  });

  it('bounds memory: a record over the limit is reported oversized with its first KiB, and the next record is read', () => {
    const big = JSON.stringify({ blob: 'z'.repeat(5000) });
    const out = values(splitInChunks(`${big}\n{"next":true}\n`, 100, { maxRecordChars: 2000 }));
    expect(out).toEqual([{ oversized: 1024 }, { next: true }]);
  });

  it('reports what is left at the end of input', () => {
    expect(values(splitInChunks('{"a":1}\n{"b":', 3))).toEqual([{ a: 1 }, { error: '{"b":' }]);
  });
});

describe('time, ids and labels', () => {
  it('normalises RFC 3339, Panther and epoch times to millisecond UTC, and reads CloudTrail expirations', () => {
    expect(normalizeTime('2020-04-30T14:27:11.3255203Z')).toBe('2020-04-30T14:27:11.325Z');
    expect(normalizeTime('2024-10-17 21:48:45.000000000')).toBe('2024-10-17T21:48:45.000Z');
    expect(normalizeTime('2024-06-02 20:27:12')).toBe('2024-06-02T20:27:12.000Z');
    expect(normalizeTime('2026-01-01T01:00:00+01:00')).toBe('2026-01-01T00:00:00.000Z');
    expect(normalizeTime(1632493567)).toBe('2021-09-24T14:26:07.000Z');
    expect(normalizeTime('yesterday')).toBeUndefined();
    expect(parseAwsExpiration('Jun 2, 2024, 10:37:12 PM')).toBe('2024-06-02T22:37:12.000Z');
    expect(parseAwsExpiration('Jan 01, 2019 0:00:00 PM')).toBe('2019-01-01T12:00:00.000Z');
    expect(parseAwsExpiration('Mar 23, 2016, 2:39:51 AM')).toBe('2016-03-23T02:39:51.000Z');
  });

  it('keeps ids printable and distinct, labels within the contract, JSON canonical', () => {
    expect(idPart('Production EU')).toBe('Production%20EU');
    expect(idPart('100%')).toBe('100%25');
    expect(idPart('é')).toBe('%C3%A9');
    expect(labelsOf({ a: 'x'.repeat(300), b: undefined, c: '', d: 3 })).toEqual({ a: `${'x'.repeat(255)}…`, d: '3' });
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });

  it('BoundedMap evicts the least recently written entry', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('a', 3);
    expect(m.set('c', 4)).toEqual([['b', 2]]);
    expect(m.entries()).toEqual([['a', 3], ['c', 4]]);
  });
});
