import { ContractError, decodeJson, Heartbeat, parseWith, Revocation, ScopeChange, ScopeSnapshot, type DriftAlert, type Revocation as RevocationT, type TopicNames } from '@livescope/contracts';
import { CommandVerifier, EPOCH_HEADER, KEY_ID_HEADER, SIGNATURE_HEADER, TransportError, type VerifyingKey } from '@livescope/transport';
import type { IHeaders } from 'kafkajs';
import type { AckBuffer } from './AckBuffer.js';
import { EnforcerError } from './EnforcerError.js';
import type { EnforcerState, IdentityView } from './EnforcerState.js';

/** One message as read from Kafka (what kafkajs gives, plus its topic and partition). */
export interface InboundMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
  /** Kafka timestamp, epoch ms as a decimal string. */
  readonly timestamp: string;
}

export type CommandKind = 'scope.change' | 'scope.snapshot' | 'revocation' | 'heartbeat';

/**
 * What became of one message:
 * - `applied`: a newer scope (or a revocation) now in force, acknowledged;
 * - `duplicate`: the version held (the change and the snapshot of one version both arrive);
 * - `superseded`: older than the version held, yet explained by the snapshot and change topics
 *   being read at different speeds (not older than anything seen before it on its own topic);
 * - `rejected`: unsigned, forged, malformed, mis-keyed, or a rollback — alerted;
 * - `heartbeat`: a heartbeat folded into the partition's liveness;
 * - `redelivered`: an offset already handled (the consumer re-read it after a rebalance), ignored;
 * - `ignored`: a topic the enforcer does not follow.
 */
export type Outcome =
  | { readonly type: 'applied'; readonly kind: Exclude<CommandKind, 'heartbeat'>; readonly identityId: string; readonly version: number; readonly revocation?: RevocationT }
  | { readonly type: 'duplicate' | 'superseded'; readonly kind: 'scope.change' | 'scope.snapshot'; readonly identityId: string; readonly version: number; readonly held: number }
  | { readonly type: 'rejected'; readonly kind: CommandKind; readonly code: string; readonly reason: string; readonly identityId: string | undefined; readonly alert: DriftAlert }
  | { readonly type: 'heartbeat'; readonly partition: number }
  | { readonly type: 'redelivered' | 'ignored' };

/** Where one topic partition starts for this enforcement point. */
export interface PartitionStart {
  readonly topic: string;
  readonly partition: number;
  /** The first offset to read. */
  readonly from: string;
  /** The log end offset when the enforcement point started: offsets below it were written before it started. */
  readonly end: string;
  /** Whether `ready` waits until this partition has been read up to `end`. */
  readonly awaited: boolean;
}

export interface CommandProcessorOptions {
  readonly enforcerId: string;
  readonly topics: TopicNames;
  /** Public keys trusted for command signatures. */
  readonly trustedKeys: readonly VerifyingKey[];
  /** Commands signed at a lower key epoch are rejected. Default 0. */
  readonly minKeyEpoch?: number;
  readonly state: EnforcerState;
  /** Where acknowledgements of applied commands go; none are recorded without it. */
  readonly acks?: AckBuffer;
  /** Largest message accepted, bytes. Default 4 MiB. */
  readonly maxBytes?: number;
  /** Called once, when every awaited partition has been read up to where it stood at start. */
  readonly onReady?: () => void;
  /** Most alerts held for sending (the oldest are dropped beyond). Default 10 000. */
  readonly maxPendingAlerts?: number;
  /** At the end of the catch-up, identities still behind their high-water version are alerted one by one up to this many, then in one summary. Default 100. */
  readonly maxBehindAlerts?: number;
}

/** The rollback check of one scope command: why it is refused, or undefined. */
interface VersionVerdict {
  readonly rollback: boolean;
  readonly reason: string;
}

/**
 * The enforcement point's message handling, free of Kafka clients: it takes plain messages and the
 * clock and records effects (scope applied to the state, acknowledgements, alerts) and returns an
 * outcome per message. The Enforcer shell feeds it from kafkajs and sends what it records.
 *
 * Every command is verified against the topic and the key it was read from (a genuine signature
 * moved to another topic or key fails). Versions: the highest per identity from any topic wins,
 * never the last one written. An older version is rejected as a rollback (`VERSION_ROLLBACK`, a
 * `rejected-command` alert naming identity, held and offered versions, topic and offset) when it
 * cannot be explained by the two scope topics being read at different speeds:
 *  - it is older than a version already read on its own topic (each topic holds an identity's
 *    versions in increasing order: one partition, written in order by the worker);
 *  - or it was written after this enforcement point started (its offset is at or past the start
 *    position) and is older than a snapshot written before it started, or than the version its
 *    high-water file recorded (all written earlier, so a genuine later command is at least as new).
 * Other older versions are `superseded` (counted, not alerted). An equal version is a silent
 * duplicate: only its signature headers are checked (present, known key, accepted epoch), not the
 * Ed25519 signature itself (~70 µs, half of an enforcer's work in a large fan-out) — it cannot
 * change anything.
 *
 * High-water versions (loaded into `state.behind`) are never undercut: nothing older is applied. A
 * snapshot below one, read during the start-up catch-up, is set aside; when the catch-up ends, every
 * identity still behind is alerted, naming the newest version the topics offered.
 */
export class CommandProcessor {
  private readonly verifier: CommandVerifier;
  private readonly keys: Map<string, VerifyingKey>;
  private readonly minEpoch: number;
  private readonly decode: { maxBytes: number; isKnownSchemaId: () => boolean };
  /** Per topic partition: the start position and whether the catch-up still waits for it. */
  private readonly starts = new Map<string, { end: bigint; from: string; awaited: boolean }>();
  /** Per topic partition: the last offset handled. */
  private readonly handled = new Map<string, bigint>();
  private awaiting = 0;
  private begun = false;
  private isReady = false;
  /** Newest snapshot offered during catch-up for identities behind their high-water version. */
  private readonly offered = new Map<string, { version: number; topic: string; partition: number; offset: string }>();
  private alerts: DriftAlert[] = [];
  /** Alerts dropped because too many were waiting to be sent. */
  alertsDropped = 0;
  /** Set when the versions held changed since `takeDirty()` (the high-water file needs writing). */
  private dirty = false;

  constructor(private readonly o: CommandProcessorOptions) {
    this.verifier = new CommandVerifier(o.trustedKeys, { minEpoch: o.minKeyEpoch ?? 0 });
    this.keys = new Map(o.trustedKeys.map((k) => [k.kid, k]));
    this.minEpoch = o.minKeyEpoch ?? 0;
    this.decode = { maxBytes: o.maxBytes ?? 4 * 1024 * 1024, isKnownSchemaId: () => true };
  }

  get ready(): boolean {
    return this.isReady;
  }

  /**
   * Sets where every topic partition starts. Offsets below `end` were written before this
   * enforcement point started; `ready` comes once every awaited partition has been read to there.
   */
  begin(starts: readonly PartitionStart[], nowMs: number): void {
    if (this.begun) throw new Error('CommandProcessor.begin was called twice');
    this.begun = true;
    for (const s of starts) {
      const end = BigInt(s.end);
      const awaited = s.awaited && end > BigInt(s.from) && !this.reached(s.topic, s.partition, end);
      this.starts.set(`${s.topic}:${s.partition}`, { end, from: s.from, awaited });
      if (awaited) this.awaiting++;
    }
    if (this.awaiting === 0) this.caughtUp(nowMs);
  }

  /** Where to (re)start reading a partition: after the last offset handled, else its start. Undefined when unknown. */
  resumeOffset(topic: string, partition: number): string | undefined {
    const key = `${topic}:${partition}`;
    const last = this.handled.get(key);
    return last !== undefined ? (last + 1n).toString() : this.starts.get(key)?.from;
  }

  /** The alerts recorded since the last call, oldest first. */
  drainAlerts(): DriftAlert[] {
    const out = this.alerts;
    this.alerts = [];
    return out;
  }

  /** Puts alerts that could not be sent back in front (bounded). */
  requeueAlerts(alerts: readonly DriftAlert[]): void {
    this.alerts = [...alerts, ...this.alerts];
    this.boundAlerts();
  }

  /** Alerts waiting to be sent. */
  get pendingAlerts(): number {
    return this.alerts.length;
  }

  /** Marks the versions held as not yet written (a write of the high-water file failed). */
  markDirty(): void {
    this.dirty = true;
  }

  /** Whether the versions held changed since the last call (and resets it). */
  takeDirty(): boolean {
    const d = this.dirty;
    this.dirty = false;
    return d;
  }

  /**
   * The versions to record in the high-water file: the identities still behind theirs, then every
   * identity held. A live view, safe to read while commands apply (an identity that catches up
   * meanwhile moves from the first map to the second, where the iteration still reaches it).
   */
  *highWaterVersions(): Generator<[string, number]> {
    const { behind, identities } = this.o.state;
    for (const [id, version] of behind) if (!identities.has(id)) yield [id, version];
    for (const [id, v] of identities) yield [id, v.version];
  }

  handle(m: InboundMessage, nowMs: number): Outcome {
    const t = this.o.topics;
    const kind: CommandKind | undefined = m.topic === t.scopeSnapshots ? 'scope.snapshot' : m.topic === t.scopeChanges ? 'scope.change' : m.topic === t.revocations ? 'revocation' : m.topic === t.heartbeats ? 'heartbeat' : undefined;
    if (kind === undefined) return { type: 'ignored' };
    const position = `${m.topic}:${m.partition}`;
    const offset = BigInt(m.offset);
    const last = this.handled.get(position);
    if (last !== undefined && offset <= last) return { type: 'redelivered' };
    this.handled.set(position, offset);
    const key = m.key === null ? null : typeof m.key === 'string' ? m.key : m.key.toString();
    let outcome: Outcome;
    try {
      outcome = kind === 'heartbeat' ? this.heartbeat(m, key) : kind === 'revocation' ? this.revocation(m, key, nowMs) : this.scope(m, key, kind, offset, nowMs);
    } catch (e) {
      if (!TransportError.is(e) && !ContractError.is(e) && !EnforcerError.is(e)) throw e;
      outcome = this.reject(kind, e.code, e.message, m, key ?? undefined, nowMs, {});
    }
    this.advance(position, offset, nowMs);
    return outcome;
  }

  private heartbeat(m: InboundMessage, key: string | null): Outcome {
    this.verifier.check(m.topic, key, m.value ?? Buffer.alloc(0), m.headers);
    const hb = parseWith(Heartbeat, decodeJson(m.value, this.decode), 'heartbeat');
    if (key !== `p${hb.partition}`) throw new EnforcerError('KEY_MISMATCH', 'poison', `heartbeat of partition ${hb.partition} is keyed ${String(key).slice(0, 64)}, not p${hb.partition}`);
    const next = offsetOf(hb.nextOffset, 'nextOffset');
    const end = hb.logEndOffset === undefined ? undefined : offsetOf(hb.logEndOffset, 'logEndOffset');
    this.o.state.heartbeat(hb.partition, Date.parse(hb.at), end === undefined ? undefined : next, end);
    return { type: 'heartbeat', partition: hb.partition };
  }

  private revocation(m: InboundMessage, key: string | null, nowMs: number): Outcome {
    this.verifier.check(m.topic, key, m.value ?? Buffer.alloc(0), m.headers);
    const r = parseWith(Revocation, decodeJson(m.value, this.decode), 'revocation');
    if (r.identityId !== key) throw keyMismatch('revocation', r.identityId, key);
    this.o.state.applyRevocation(r);
    this.ack(r.identityId, r.version, m, nowMs, 'revocation');
    return { type: 'applied', kind: 'revocation', identityId: r.identityId, version: r.version, revocation: r };
  }

  private scope(m: InboundMessage, key: string | null, kind: 'scope.change' | 'scope.snapshot', offset: bigint, nowMs: number): Outcome {
    const state = this.o.state;
    const live = this.isLive(m.topic, m.partition, offset);
    // The JSON is read once: to see whether the version is the one held (a duplicate), then to validate it.
    let json: unknown;
    try {
      json = decodeJson(m.value, this.decode);
    } catch (e) {
      if (!ContractError.is(e)) throw e;
      json = undefined;
    }
    // Only what the topic and key say it must be (the kind of the topic, about the key's identity) can be a duplicate.
    const peek = json as { kind?: unknown; identityId?: unknown; version?: unknown } | undefined;
    const peekHeld = peek?.kind === kind && typeof peek.identityId === 'string' && peek.identityId === key ? state.identities.get(peek.identityId) : undefined;
    if (peekHeld !== undefined && peek!.version === peekHeld.version) {
      this.checkSignatureShape(m.headers);
      this.track(peekHeld, kind, peekHeld.version, live);
      return { type: 'duplicate', kind, identityId: key!, version: peekHeld.version, held: peekHeld.version };
    }
    this.verifier.check(m.topic, key, m.value ?? Buffer.alloc(0), m.headers);
    if (json === undefined) decodeJson(m.value, this.decode); // throws the ContractError that says why
    const c = kind === 'scope.snapshot' ? parseWith(ScopeSnapshot, json, 'scope snapshot') : parseWith(ScopeChange, json, 'scope change');
    if (c.identityId !== key) throw keyMismatch(kind, c.identityId, key);
    const held = state.identities.get(c.identityId);
    const highWater = state.behind.get(c.identityId);
    if (held !== undefined && c.version <= held.version) {
      this.track(held, kind, c.version, live);
      if (c.version === held.version) return { type: 'duplicate', kind, identityId: c.identityId, version: c.version, held: held.version };
      const verdict = this.olderThanHeld(held, kind, c.version, live);
      if (verdict.rollback) return this.rollback(kind, m, c.identityId, c.version, { heldVersion: held.version, ...(highWater === undefined ? {} : { highWaterVersion: highWater }) }, `the version held (${held.version}): ${verdict.reason}`, nowMs);
      return { type: 'superseded', kind, identityId: c.identityId, version: c.version, held: held.version };
    }
    if (held === undefined && highWater !== undefined && c.version < highWater) {
      if (live) return this.rollback(kind, m, c.identityId, c.version, { heldVersion: null, highWaterVersion: highWater }, `version ${highWater}, which this enforcement point applied before it restarted (its high-water file)`, nowMs);
      // During the catch-up a newer snapshot may still follow: judged when the catch-up ends.
      const seen = this.offered.get(c.identityId);
      if (seen === undefined || c.version > seen.version) this.offered.set(c.identityId, { version: c.version, topic: m.topic, partition: m.partition, offset: m.offset });
      return { type: 'superseded', kind, identityId: c.identityId, version: c.version, held: 0 };
    }
    const applied = state.applyScope(c);
    const view = state.identities.get(c.identityId);
    if (applied !== 'applied' || view === undefined || view.version !== c.version) {
      // The state refused it (it guards versions itself): count it as superseded.
      return { type: 'superseded', kind, identityId: c.identityId, version: c.version, held: view?.version ?? 0 };
    }
    if (highWater !== undefined && view.floor < highWater) view.floor = highWater;
    this.offered.delete(c.identityId);
    this.track(view, kind, c.version, live);
    this.dirty = true;
    this.ack(c.identityId, c.version, m, nowMs, kind);
    return { type: 'applied', kind, identityId: c.identityId, version: c.version };
  }

  /** Why a verified command older than the version held is (or is not) a rollback. */
  private olderThanHeld(held: IdentityView, kind: 'scope.change' | 'scope.snapshot', version: number, live: boolean): VersionVerdict {
    const onTopic = kind === 'scope.snapshot' ? held.maxSnapshot : held.maxChange;
    if (version < onTopic) return { rollback: true, reason: `version ${onTopic} was already read on the same topic` };
    if (live && version < held.floor) return { rollback: true, reason: `it was written after this enforcement point started, yet version ${held.floor} was written before` };
    return { rollback: false, reason: '' };
  }

  /** Records the highest version read per topic, and the snapshots read below the start position (the floor of later commands). */
  private track(view: IdentityView, kind: 'scope.change' | 'scope.snapshot', version: number, live: boolean): void {
    if (kind === 'scope.change') {
      if (version > view.maxChange) view.maxChange = version;
      return;
    }
    if (version > view.maxSnapshot) view.maxSnapshot = version;
    if (!live && version > view.floor) view.floor = version;
  }

  /** `versions`: the version held (null when none) and the high-water version, for the alert; `than`: what the offered version is older than. */
  private rollback(kind: CommandKind, m: InboundMessage, identityId: string, offered: number, versions: { heldVersion: number | null; highWaterVersion?: number }, than: string, nowMs: number): Outcome {
    const reason = `rollback refused: version ${offered} of ${identityId} on ${m.topic} (partition ${m.partition}, offset ${m.offset}) is older than ${than}`;
    return this.reject(kind, 'VERSION_ROLLBACK', reason, m, identityId, nowMs, { identityId, ...versions, offeredVersion: offered });
  }

  private reject(kind: CommandKind, code: string, reason: string, m: InboundMessage, identityId: string | undefined, nowMs: number, extra: Record<string, unknown>): Outcome {
    if (this.o.acks) this.o.acks.rejected++;
    // The key of a rejected message is untrusted: it names the identity only when it is one's id.
    const id = identityId !== undefined && kind !== 'heartbeat' && /^[\x21-\x7e]{1,256}$/.test(identityId) ? identityId : undefined;
    const alert: DriftAlert = {
      kind: 'drift.alert',
      alertId: `${this.o.enforcerId}/${m.topic}/${m.partition}/${m.offset}/rejected`,
      type: 'rejected-command',
      severity: 'critical',
      ...(id ? { identityId: id as DriftAlert['identityId'] } : {}),
      enforcerId: this.o.enforcerId as DriftAlert['enforcerId'],
      at: new Date(nowMs).toISOString(),
      summary: `enforcer ${this.o.enforcerId} rejected a command on ${m.topic}: ${reason}`.slice(0, 4000),
      details: { topic: m.topic, partition: m.partition, offset: m.offset, code, reason: reason.slice(0, 2000), ...extra },
      cause: {},
    };
    this.pushAlert(alert);
    return { type: 'rejected', kind, code, reason, identityId: id, alert };
  }

  private ack(identityId: string, version: number, m: InboundMessage, nowMs: number, kind: 'scope.change' | 'scope.snapshot' | 'revocation'): void {
    this.o.acks?.push({ identityId: identityId as never, version, producedAt: new Date(Number(m.timestamp)).toISOString(), appliedAt: new Date(nowMs).toISOString(), kind });
  }

  /** Headers of a signature: present, by a trusted key, at an accepted epoch, 64 bytes (no Ed25519 verification). */
  private checkSignatureShape(headers: IHeaders | undefined): void {
    const kid = headerText(headers?.[KEY_ID_HEADER]);
    const sig = headers?.[SIGNATURE_HEADER];
    if (kid === undefined || sig === undefined) throw new TransportError('SIGNATURE_MISSING', 'poison', 'command is not signed');
    const trusted = this.keys.get(kid);
    if (!trusted) throw new TransportError('UNKNOWN_KEY_ID', 'poison', `command is signed with unknown key id ${kid.slice(0, 128)}`);
    const epoch = Number(headerText(headers?.[EPOCH_HEADER]));
    if (!Number.isSafeInteger(epoch) || epoch < this.minEpoch || (trusted.epoch !== undefined && epoch !== trusted.epoch)) {
      throw new TransportError('KEY_EPOCH_REFUSED', 'poison', `command signed by ${kid} at epoch ${String(headerText(headers?.[EPOCH_HEADER])).slice(0, 32)}, which is refused (minimum ${this.minEpoch})`);
    }
    const bytes = Array.isArray(sig) ? sig[0] : sig;
    if (bytes === undefined || (typeof bytes === 'string' ? Buffer.byteLength(bytes, 'binary') : bytes.length) !== 64) throw new TransportError('SIGNATURE_INVALID', 'poison', `signature by ${kid} is not an Ed25519 signature`);
  }

  private isLive(topic: string, partition: number, offset: bigint): boolean {
    const s = this.starts.get(`${topic}:${partition}`);
    return s === undefined || offset >= s.end;
  }

  private reached(topic: string, partition: number, end: bigint): boolean {
    const last = this.handled.get(`${topic}:${partition}`);
    return last !== undefined && last >= end - 1n;
  }

  private advance(position: string, offset: bigint, nowMs: number): void {
    const s = this.starts.get(position);
    if (s === undefined || !s.awaited || offset < s.end - 1n) return;
    s.awaited = false;
    if (--this.awaiting === 0) this.caughtUp(nowMs);
  }

  private caughtUp(nowMs: number): void {
    if (this.isReady) return;
    this.isReady = true;
    const behind = [...this.o.state.behind].filter(([id]) => !this.o.state.identities.has(id));
    const max = this.o.maxBehindAlerts ?? 100;
    for (const [id, highWater] of behind.slice(0, max)) {
      const o = this.offered.get(id);
      const summary = o
        ? `the newest scope of ${id} on the command topics is version ${o.version} (${o.topic}, partition ${o.partition}, offset ${o.offset}), older than version ${highWater}, which this enforcement point applied before it restarted: a rollback or lost commands; its actions are denied (stale) until version ${highWater} or newer arrives`
        : `no scope of ${id} at or above version ${highWater}, which this enforcement point applied before it restarted, is on the command topics; its actions are denied (stale) until one arrives`;
      this.pushAlert({
        kind: 'drift.alert',
        alertId: `${this.o.enforcerId}/behind/${id}/${highWater}`,
        type: 'rejected-command',
        severity: 'critical',
        identityId: id as DriftAlert['identityId'],
        enforcerId: this.o.enforcerId as DriftAlert['enforcerId'],
        at: new Date(nowMs).toISOString(),
        summary: `enforcer ${this.o.enforcerId}: ${summary}`,
        details: { code: 'VERSION_ROLLBACK', highWaterVersion: highWater, offeredVersion: o?.version ?? null, ...(o ? { topic: o.topic, partition: o.partition, offset: o.offset } : {}) },
        cause: {},
      });
    }
    if (behind.length > max) {
      this.pushAlert({
        kind: 'drift.alert',
        alertId: `${this.o.enforcerId}/behind/${nowMs}`,
        type: 'rejected-command',
        severity: 'critical',
        enforcerId: this.o.enforcerId as DriftAlert['enforcerId'],
        at: new Date(nowMs).toISOString(),
        summary: `enforcer ${this.o.enforcerId}: ${behind.length} identities are behind the versions it applied before it restarted (${behind.length - max} more than alerted one by one); their actions are denied (stale)`,
        details: { code: 'VERSION_ROLLBACK', behind: behind.length, sample: behind.slice(max, max + 20).map(([id]) => id) },
        cause: {},
      });
    }
    this.offered.clear();
    this.o.onReady?.();
  }

  private pushAlert(a: DriftAlert): void {
    this.alerts.push(a);
    this.boundAlerts();
  }

  private boundAlerts(): void {
    const excess = this.alerts.length - (this.o.maxPendingAlerts ?? 10_000);
    if (excess <= 0) return;
    this.alerts.splice(0, excess);
    this.alertsDropped += excess;
  }
}

function keyMismatch(what: string, identityId: string, key: string | null): EnforcerError {
  return new EnforcerError('KEY_MISMATCH', 'poison', `${what} of ${identityId} is keyed ${String(key).slice(0, 256)}, not by its identity`);
}

function offsetOf(s: string, field: string): bigint {
  if (!/^\d{1,19}$/.test(s)) throw new ContractError('schema-invalid', `heartbeat ${field} ${s.slice(0, 32)} is not an offset`);
  return BigInt(s);
}

function headerText(h: IHeaders[string]): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined ? undefined : v.toString();
}
