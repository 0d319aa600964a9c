/** A binary min-heap of (instant, identity id). Stale entries are skipped by the caller (lazy deletion). */
export class TimerHeap {
  private readonly at: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.at.length;
  }

  push(at: number, id: string): void {
    this.at.push(at);
    this.ids.push(id);
    let i = this.at.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.at[p]! <= at) break;
      this.swap(i, p);
      i = p;
    }
  }

  peek(): number | undefined {
    return this.at[0];
  }

  /** Removes and returns the earliest entry. */
  pop(): { at: number; id: string } | undefined {
    const n = this.at.length;
    if (n === 0) return undefined;
    const top = { at: this.at[0]!, id: this.ids[0]! };
    const lastAt = this.at.pop()!;
    const lastId = this.ids.pop()!;
    if (n > 1) {
      this.at[0] = lastAt;
      this.ids[0] = lastId;
      this.siftDown(0);
    }
    return top;
  }

  clear(): void {
    this.at.length = 0;
    this.ids.length = 0;
  }

  private siftDown(i: number): void {
    const n = this.at.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.at[l]! < this.at[m]!) m = l;
      if (r < n && this.at[r]! < this.at[m]!) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const ta = this.at[a]!;
    this.at[a] = this.at[b]!;
    this.at[b] = ta;
    const ia = this.ids[a]!;
    this.ids[a] = this.ids[b]!;
    this.ids[b] = ia;
  }
}
