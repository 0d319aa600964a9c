import type { ServerResponse } from 'node:http';
import type { EnforcerState } from '@livescope/enforcer';

/** The scope of one identity as the watch stream sends it. */
export interface WatchedScope {
  readonly identityId: string;
  /** False when no scope is held for it (every action denied). */
  readonly known: boolean;
  readonly version: number;
  readonly status?: string;
  readonly permissions: { action: string; resource: string; validUntil: string | null; boundSessions?: number }[];
  /** Live sessions (their ids are not sent). */
  readonly sessions: number;
}

interface Watcher {
  readonly res: ServerResponse;
  /** Explicit identities; undefined: the identities the agent has served. */
  readonly ids: readonly string[] | undefined;
  readonly sent: Map<string, number>;
  lastWriteMs: number;
  /** The staleness last told ('' = fresh), undefined before the first. */
  told: string | undefined;
}

/**
 * Server-sent events of the scopes of identities: each watcher receives the current scope of every
 * identity it follows, then every new version (compared every `intervalMs`). For enforcement points
 * that keep their own cache. Each stream also says whether the agent's view is fresh: `event: fresh`,
 * or `event: stale` with the reason once the pipeline has been silent for longer than the staleness
 * bound (or the agent's consumer stopped) — a cache holder then fails its sensitive actions closed.
 */
export class ScopeWatch {
  private readonly watchers = new Set<Watcher>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: EnforcerState,
    private readonly served: () => Iterable<string>,
    private readonly intervalMs: number,
    private readonly maxWatchers: number,
    /** Why the agent's view is stale now, or undefined when it is fresh. */
    private readonly staleness: () => string | undefined = () => undefined,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  /** Opens a stream on `res`; false when the agent holds `maxWatchers` already. */
  open(res: ServerResponse, ids: readonly string[] | undefined): boolean {
    if (this.watchers.size >= this.maxWatchers) return false;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const w: Watcher = { res, ids, sent: new Map(), lastWriteMs: Date.now(), told: undefined };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
    this.push(w);
    this.timer ??= setInterval(() => {
      for (const x of this.watchers) this.push(x);
    }, this.intervalMs);
    return true;
  }

  /** Ends every stream (shutdown). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  private push(w: Watcher): void {
    // A slow reader is not given more: the socket's buffer is bounded by dropping it.
    if (w.res.writableLength > 1024 * 1024) {
      w.res.destroy();
      this.watchers.delete(w);
      return;
    }
    const stale = this.staleness() ?? '';
    if (w.told !== stale) {
      w.told = stale;
      w.res.write(stale === '' ? 'event: fresh\ndata: {}\n\n' : `event: stale\ndata: ${JSON.stringify({ reason: stale })}\n\n`);
    }
    for (const id of w.ids ?? this.served()) {
      const v = this.state.identities.get(id);
      const version = v?.version ?? 0;
      if (w.sent.get(id) === version) continue;
      w.sent.set(id, version);
      w.res.write(`event: scope\ndata: ${JSON.stringify(this.scopeOf(id))}\n\n`);
      w.lastWriteMs = Date.now();
    }
    if (Date.now() - w.lastWriteMs > 15_000) {
      w.res.write(': keep-alive\n\n');
      w.lastWriteMs = Date.now();
    }
  }

  scopeOf(identityId: string): WatchedScope {
    const v = this.state.identities.get(identityId);
    if (!v) return { identityId, known: false, version: 0, permissions: [], sessions: 0 };
    const iso = (until: number): string | null => (until === Number.POSITIVE_INFINITY ? null : new Date(until).toISOString());
    const permissions: WatchedScope['permissions'] = [];
    for (const p of this.state.permissionsOf(v)) permissions.push({ action: p.action, resource: p.resource, validUntil: iso(p.until), ...(p.sessions === undefined ? {} : { boundSessions: p.sessions.size }) });
    return { identityId, known: true, version: v.version, status: v.status, permissions, sessions: v.sessions.size };
  }
}
