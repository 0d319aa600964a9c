import { describe, expect, it } from 'vitest';
import { SseParser } from './SseParser';

describe('SseParser', () => {
  it('dispatches events with their type, data and id, ignoring comments', () => {
    const p = new SseParser();
    const out = p.push('retry: 2000\n: hello\n\nid: 7\nevent: drift.alert\ndata: {"a":1}\n\ndata: plain\n\n');
    expect(out).toEqual([
      { event: 'drift.alert', data: '{"a":1}', lastEventId: '7' },
      { event: 'message', data: 'plain', lastEventId: '7' },
    ]);
    expect(p.retryMs).toBe(2000);
  });

  it('keeps the last event id across events without one (acknowledgements never move the resume position)', () => {
    const p = new SseParser('3');
    expect(p.push('event: alert.acknowledged\ndata: {}\n\nid: 4\nevent: drift.alert\ndata: x\n\nevent: alert.acknowledged\ndata: {}\n\n').map((m) => m.lastEventId)).toEqual(['3', '4', '4']);
  });

  it('reassembles lines split across chunks, including a CRLF split between them', () => {
    const p = new SseParser();
    const chunks = ['id: 1\r', '\nda', 'ta: first\r\ndata: second\r', '\n\r', '\n'];
    const out = chunks.flatMap((c) => p.push(c));
    expect(out).toEqual([{ event: 'message', data: 'first\nsecond', lastEventId: '1' }]);
  });

  it('accepts CR-only line ends, strips one leading space, a BOM, and ignores ids with NUL and events without data', () => {
    const p = new SseParser();
    const out = p.push('\uFEFFdata:  two spaces\r\rid: a\0b\revent: empty\r\rdata\r\r\n');
    expect(out).toEqual([
      { event: 'message', data: ' two spaces', lastEventId: '' },
      { event: 'message', data: '', lastEventId: '' },
    ]);
  });
});
