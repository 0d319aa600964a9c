import { describe, expect, it } from 'vitest';
import { describeTarget, parseDuration, parseSelector, parseTarget, UsageError } from './parse.js';
import { readEvents } from './sse.js';
import { formatMs, formatTable } from './table.js';

describe('CLI parsing', () => {
  it('durations', () => {
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(() => parseDuration('soon')).toThrow(UsageError);
    expect(() => parseDuration('0s')).toThrow(/positive/);
  });

  it('selectors and targets', () => {
    expect(parseSelector('kind=workload,namespace=payments,label.app=api,role=db,role=ops')).toEqual({ kind: 'workload', namespace: 'payments', labels: { app: 'api' }, roles: ['db', 'ops'] });
    expect(() => parseSelector('team=x')).toThrow(/unknown key/);
    expect(parseTarget('w1', {})).toEqual({ identityId: 'w1' });
    expect(parseTarget(undefined, { all: true })).toEqual({ all: true });
    expect(() => parseTarget('w1', { all: true })).toThrow(UsageError);
    expect(() => parseTarget(undefined, {})).toThrow(UsageError);
    expect(describeTarget({ selector: { namespace: 'payments', labels: { app: 'api' } } })).toBe('namespace=payments,label.app=api');
  });

  it('tables and durations for humans', () => {
    expect(formatTable(['A', 'LONGER'], [['x', null], ['yyyy', 'z']])).toBe('A     LONGER\nx     -\nyyyy  z\n');
    expect(formatMs(1500)).toBe('1.5 s');
    expect(formatMs(42)).toBe('42 ms');
  });
});

describe('Server-Sent Events parsing', () => {
  it('reassembles events split across chunks, with ids, types and multi-line data; skips comments', async () => {
    const chunks = ['retry: 2000\n: hello\n\nid: 7\nevent: drift.alert\nda', 'ta: {"a":\ndata: 1}\n\n', 'id: 8\r\nevent: drift.alert\r\ndata: x\r\n\r\n'];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
        c.close();
      },
    });
    const out = [];
    for await (const e of readEvents(body, new AbortController().signal)) out.push(e);
    expect(out).toEqual([
      { id: '7', event: 'drift.alert', data: '{"a":\n1}' },
      { id: '8', event: 'drift.alert', data: 'x' },
    ]);
  });
});
