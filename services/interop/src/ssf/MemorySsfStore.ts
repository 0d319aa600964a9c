import type { OutboxEntry, PollResult, SsfStore, StreamRecord } from './SsfStore.js';

/** In-memory SsfStore: one instance, state lost on restart (tests and development). Bounded by `maxOutbox`. */
export class MemorySsfStore implements SsfStore {
  private readonly streams = new Map<string, StreamRecord>();
  private readonly subjects = new Map<string, Map<string, boolean>>();
  private readonly subjectValues = new Map<string, Map<string, unknown>>();
  private readonly outbox = new Map<string, OutboxEntry>();
  private readonly received = new Map<string, number>();

  constructor(
    private readonly maxOutbox = 100_000,
    /** Received SET ids kept (oldest forgotten first); PostgreSQL keeps them for the whole window. */
    private readonly maxReceived = 1_000_000,
  ) {}

  private key = (streamId: string, jti: string): string => `${streamId}\n${jti}`;

  createStream(s: StreamRecord): Promise<void> {
    this.streams.set(s.streamId, s);
    return Promise.resolve();
  }
  getStream(id: string): Promise<StreamRecord | undefined> {
    return Promise.resolve(this.streams.get(id));
  }
  listStreams(clientId: string): Promise<StreamRecord[]> {
    return Promise.resolve([...this.streams.values()].filter((s) => s.clientId === clientId));
  }
  activeStreams(): Promise<StreamRecord[]> {
    return Promise.resolve([...this.streams.values()].filter((s) => s.status !== 'disabled'));
  }
  updateStream(s: StreamRecord): Promise<void> {
    this.streams.set(s.streamId, s);
    return Promise.resolve();
  }
  async deleteStream(id: string): Promise<boolean> {
    const had = this.streams.delete(id);
    this.subjects.delete(id);
    this.subjectValues.delete(id);
    await this.dropOutbox(id);
    return had;
  }
  setSubject(streamId: string, key: string, subject: unknown, included: boolean): Promise<void> {
    let m = this.subjects.get(streamId);
    if (!m) this.subjects.set(streamId, (m = new Map<string, boolean>()));
    m.set(key, included);
    let v = this.subjectValues.get(streamId);
    if (!v) this.subjectValues.set(streamId, (v = new Map<string, unknown>()));
    v.set(key, subject);
    return Promise.resolve();
  }
  streamSubjects(streamId: string): Promise<{ subject: unknown; included: boolean }[]> {
    const m = this.subjects.get(streamId);
    const v = this.subjectValues.get(streamId);
    return Promise.resolve([...(m ?? new Map<string, boolean>()).entries()].map(([k, included]) => ({ subject: v?.get(k), included })));
  }
  subjectDecision(streamId: string, keys: readonly string[]): Promise<boolean | undefined> {
    const m = this.subjects.get(streamId);
    const decisions = keys.map((k) => m?.get(k)).filter((d): d is boolean => d !== undefined);
    if (decisions.length === 0) return Promise.resolve(undefined);
    return Promise.resolve(!decisions.includes(false));
  }
  enqueue(entries: readonly OutboxEntry[]): Promise<number> {
    let n = 0;
    for (const e of entries) {
      const k = this.key(e.streamId, e.jti);
      if (this.outbox.has(k)) continue;
      if (this.outbox.size >= this.maxOutbox) throw new Error(`outbox full (${this.maxOutbox} SETs)`);
      this.outbox.set(k, e);
      n++;
    }
    return Promise.resolve(n);
  }
  claimPush(now: number, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = [];
    for (const [k, e] of this.outbox) {
      if (out.length >= limit) break;
      const s = this.streams.get(e.streamId);
      if (!s || s.status !== 'enabled' || s.delivery.method !== 'urn:ietf:rfc:8935' || e.failedAt !== undefined || e.nextAttemptAt > now) continue;
      const claimed = { ...e, nextAttemptAt: now + leaseMs };
      this.outbox.set(k, claimed);
      out.push(e);
    }
    return Promise.resolve(out);
  }
  delivered(streamId: string, jti: string): Promise<void> {
    this.outbox.delete(this.key(streamId, jti));
    return Promise.resolve();
  }
  retryLater(streamId: string, jti: string, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    const k = this.key(streamId, jti);
    const e = this.outbox.get(k);
    if (e) this.outbox.set(k, { ...e, attempts, nextAttemptAt, lastError: error });
    return Promise.resolve();
  }
  failed(streamId: string, jti: string, now: number, error: string): Promise<void> {
    const k = this.key(streamId, jti);
    const e = this.outbox.get(k);
    if (e) this.outbox.set(k, { ...e, attempts: e.attempts + 1, failedAt: now, lastError: error });
    return Promise.resolve();
  }
  poll(streamId: string, max: number, now: number, ackTimeoutMs: number): Promise<PollResult> {
    const s = this.streams.get(streamId);
    if (!s || s.status !== 'enabled') return Promise.resolve({ entries: [], moreAvailable: false });
    const due = [...this.outbox.values()].filter((e) => e.streamId === streamId && e.failedAt === undefined && (e.deliveredAt === undefined || e.deliveredAt < now - ackTimeoutMs));
    const entries = due.slice(0, max);
    for (const e of entries) this.outbox.set(this.key(streamId, e.jti), { ...e, deliveredAt: now, attempts: e.attempts + 1 });
    return Promise.resolve({ entries, moreAvailable: due.length > entries.length });
  }
  acknowledge(streamId: string, jtis: readonly string[]): Promise<number> {
    let n = 0;
    for (const j of jtis) if (this.outbox.delete(this.key(streamId, j))) n++;
    return Promise.resolve(n);
  }
  dropOutbox(streamId: string): Promise<void> {
    for (const [k, e] of this.outbox) if (e.streamId === streamId) this.outbox.delete(k);
    return Promise.resolve();
  }
  outboxCounts(streamId: string): Promise<{ pending: number; failed: number }> {
    const mine = [...this.outbox.values()].filter((e) => e.streamId === streamId);
    return Promise.resolve({ pending: mine.filter((e) => e.failedAt === undefined).length, failed: mine.filter((e) => e.failedAt !== undefined).length });
  }
  hasReceived(iss: string, jti: string): Promise<boolean> {
    return Promise.resolve(this.received.has(`${iss}\n${jti}`));
  }
  rememberReceived(iss: string, jti: string, now: number): Promise<boolean> {
    const k = `${iss}\n${jti}`;
    if (this.received.has(k)) return Promise.resolve(false);
    this.received.set(k, now);
    while (this.received.size > this.maxReceived) this.received.delete(this.received.keys().next().value as string);
    return Promise.resolve(true);
  }
  forgetReceived(before: number): Promise<void> {
    for (const [k, at] of this.received) if (at < before) this.received.delete(k);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
