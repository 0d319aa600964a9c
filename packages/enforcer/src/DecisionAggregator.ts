/**
 * Aggregates decisions per (identity, action, resource, session) between flushes, bounded in the
 * number of distinct keys: beyond `maxKeys`, further decisions are only counted as dropped.
 */
export interface DecisionCount {
  identityId: string;
  action: string;
  resource: string;
  sessionId: string | undefined;
  allowed: number;
  denied: number;
  reason: string | undefined;
}

export class DecisionAggregator {
  private counts = new Map<string, DecisionCount>();
  private windowStart: number;
  dropped = 0;

  constructor(
    private readonly maxKeys: number,
    nowMs: number,
  ) {
    this.windowStart = nowMs;
  }

  record(identityId: string, sessionId: string | undefined, action: string, resource: string, allowed: boolean, reason: string): void {
    const key = `${identityId}\u0000${action}\u0000${resource}\u0000${sessionId ?? ''}`;
    let c = this.counts.get(key);
    if (!c) {
      if (this.counts.size >= this.maxKeys) {
        this.dropped++;
        return;
      }
      c = { identityId, action, resource, sessionId, allowed: 0, denied: 0, reason: undefined };
      this.counts.set(key, c);
    }
    if (allowed) c.allowed++;
    else {
      c.denied++;
      c.reason = reason;
    }
  }

  /** The window's counts grouped by identity, then a fresh window. */
  drain(nowMs: number): { windowStart: number; windowEnd: number; byIdentity: Map<string, DecisionCount[]> } {
    const byIdentity = new Map<string, DecisionCount[]>();
    for (const c of this.counts.values()) {
      let list = byIdentity.get(c.identityId);
      if (!list) byIdentity.set(c.identityId, (list = []));
      list.push(c);
    }
    const out = { windowStart: this.windowStart, windowEnd: nowMs, byIdentity };
    this.counts = new Map();
    this.windowStart = nowMs;
    return out;
  }
}
