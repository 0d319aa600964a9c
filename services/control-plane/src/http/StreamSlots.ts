/**
 * Concurrent event streams per token subject, at most `maxPerSubject` each: a stream holds a slot
 * from its start until it ends, whatever ends it.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(readonly maxPerSubject: number) {
    if (!(maxPerSubject >= 1)) throw new RangeError('maxPerSubject must be at least 1');
  }

  /** Streams `subject` holds now. */
  held(subject: string): number {
    return this.open.get(subject) ?? 0;
  }

  /** A slot for `subject` and the function that gives it back (once, however often it is called), or undefined when all are taken. */
  acquire(subject: string): (() => void) | undefined {
    const n = this.held(subject);
    if (n >= this.maxPerSubject) return undefined;
    this.open.set(subject, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.held(subject) - 1;
      if (left > 0) this.open.set(subject, left);
      else this.open.delete(subject);
    };
  }
}
