import { describe, expect, it } from 'vitest';
import { readEvents, type SseEvent } from './sse.js';

/** A body delivered in the given chunks. */
function body(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
}

async function all(chunks: readonly string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of readEvents(body(chunks), new AbortController().signal)) out.push(e);
  return out;
}

describe('readEvents', () => {
  it('yields type, data and the last id, which persists across events without one; comments ignored', async () => {
    expect(await all(['id: 7\nevent: drift.alert\ndata: {"a":1}\n\n: keep-alive\n\nevent: alert.acknowledged\ndata: {}\n\ndata: plain\n\n'])).toEqual([
      { id: '7', event: 'drift.alert', data: '{"a":1}' },
      { id: '7', event: 'alert.acknowledged', data: '{}' },
      { id: '7', event: 'message', data: 'plain' },
    ]);
  });

  it('reassembles lines, multi-byte characters and CRLF split across chunks', async () => {
    const enc = new TextEncoder().encode('data: é\n\n');
    const split = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.slice(0, 7));
        c.enqueue(enc.slice(7));
        c.close();
      },
    });
    const out: SseEvent[] = [];
    for await (const e of readEvents(split, new AbortController().signal)) out.push(e);
    expect(out).toEqual([{ id: undefined, event: 'message', data: 'é' }]);
    expect(await all(['id: 1\r', '\nda', 'ta: first\r\ndata: second\r', '\n\r', '\n'])).toEqual([{ id: '1', event: 'message', data: 'first\nsecond' }]);
  });

  it('stops when the signal aborts', async () => {
    const ctl = new AbortController();
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new TextEncoder().encode('data: x\n\n'));
      },
    });
    let n = 0;
    for await (const e of readEvents(endless, ctl.signal)) {
      expect(e.data).toBe('x');
      if (++n === 3) ctl.abort();
    }
    expect(n).toBe(3);
  });
});
