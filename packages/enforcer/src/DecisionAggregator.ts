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

type Reason = string | { readonly reason: string };

/** Decisions are appended to a buffer (a few array stores on `authorize()`'s path) and folded into counts when it fills or at drain. */
const BUFFER = 4096;

export class DecisionAggregator {
  /** identity → action → resource → session ('' for none). */
  private counts = new Map<string, Map<string, Map<string, Map<string, DecisionCount>>>>();
  private size = 0;
  private windowStart: number;
  private n = 0;
  private readonly ids: string[] = new Array<string>(BUFFER).fill('');
  private readonly sessions: (string | undefined)[] = new Array<string | undefined>(BUFFER).fill(undefined);
  private readonly actions: string[] = new Array<string>(BUFFER).fill('');
  private readonly resources: string[] = new Array<string>(BUFFER).fill('');
  /** undefined when allowed; the reason (or what has it) when denied. */
  private readonly denials: (Reason | undefined)[] = new Array<Reason | undefined>(BUFFER).fill(undefined);
  dropped = 0;

  constructor(
    private readonly maxKeys: number,
    nowMs: number,
  ) {
    this.windowStart = nowMs;
  }

  record(identityId: string, sessionId: string | undefined, action: string, resource: string, allowed: boolean, reason: Reason): void {
    const i = this.n++;
    this.ids[i] = identityId;
    this.sessions[i] = sessionId;
    this.actions[i] = action;
    this.resources[i] = resource;
    this.denials[i] = allowed ? undefined : reason;
    if (this.n === BUFFER) this.fold();
  }

  private fold(): void {
    for (let i = 0; i < this.n; i++) {
      const denial = this.denials[i];
      this.count(this.ids[i]!, this.sessions[i], this.actions[i]!, this.resources[i]!, denial);
      this.denials[i] = undefined;
      this.sessions[i] = undefined;
    }
    this.n = 0;
  }

  private count(identityId: string, sessionId: string | undefined, action: string, resource: string, denial: Reason | undefined): void {
    const session = sessionId ?? '';
    let c = this.counts.get(identityId)?.get(action)?.get(resource)?.get(session);
    if (!c) {
      if (this.size >= this.maxKeys) {
        this.dropped++;
        return;
      }
      let byAction = this.counts.get(identityId);
      if (!byAction) this.counts.set(identityId, (byAction = new Map<string, Map<string, Map<string, DecisionCount>>>()));
      let byResource = byAction.get(action);
      if (!byResource) byAction.set(action, (byResource = new Map<string, Map<string, DecisionCount>>()));
      let bySession = byResource.get(resource);
      if (!bySession) byResource.set(resource, (bySession = new Map<string, DecisionCount>()));
      c = { identityId, action, resource, sessionId, allowed: 0, denied: 0, reason: undefined };
      bySession.set(session, c);
      this.size++;
    }
    if (denial === undefined) c.allowed++;
    else {
      c.denied++;
      c.reason = typeof denial === 'string' ? denial : denial.reason;
    }
  }

  /** The window's counts grouped by identity, then a fresh window. */
  drain(nowMs: number): { windowStart: number; windowEnd: number; byIdentity: Map<string, DecisionCount[]> } {
    this.fold();
    const byIdentity = new Map<string, DecisionCount[]>();
    for (const [identityId, byAction] of this.counts) {
      const list: DecisionCount[] = [];
      for (const byResource of byAction.values()) for (const bySession of byResource.values()) for (const c of bySession.values()) list.push(c);
      if (list.length > 0) byIdentity.set(identityId, list);
    }
    const out = { windowStart: this.windowStart, windowEnd: nowMs, byIdentity };
    this.counts = new Map();
    this.size = 0;
    this.windowStart = nowMs;
    return out;
  }
}
