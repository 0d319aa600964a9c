import type { DeadLetterReason, DriftAlertType, IdentityEvent, Permission, RevocationTarget, Severity } from '@livescope/contracts';
import type { EngineConfig } from './EngineConfig.js';
import { idHash, ring } from './idHash.js';
import { newIdentity, NONE, type IdentityState, type Lease, type Perm, type Session } from './IdentityState.js';
import type { PermInterner } from './PermInterner.js';
import { PolicyInput } from './ScopePolicy.js';

/** A revocation the engine decided on, before it is numbered and stamped. */
export interface RevocationIntent {
  readonly target: RevocationTarget;
  readonly reason: string;
}

export interface AlertIntent {
  readonly type: DriftAlertType;
  readonly severity: Severity;
  readonly summary: string;
  readonly details: Record<string, unknown>;
}

/** What applying one event to an identity did, besides the new state. */
export interface Transition {
  readonly state: IdentityState;
  readonly revocations: readonly RevocationIntent[];
  readonly alerts: readonly AlertIntent[];
  /**
   * Whether the scope must be recomputed: `true` (candidates, sessions or status changed), the
   * policy input that changed (recompute only if some policy reads it), or `false`.
   */
  readonly recompute: boolean | PolicyInputTag;
  /** Set when the event cannot apply; the worker dead-letters it with this reason. */
  readonly reject?: Rejection;
}

/** Why an identity event is refused (the dead-letter reason) and a message naming what is wrong. */
export interface Rejection {
  readonly reason: Extract<DeadLetterReason, 'unknown-identity' | 'identity-deleted' | 'invalid-approval' | 'unauthorized-producer' | 'limit-exceeded' | 'unsupported'>;
  readonly message: string;
}

/** What `evolveIdentity` needs besides the state and the event. */
export interface EvolveContext {
  /** The processing instant (the broker's append time, or a timer's instant), epoch ms. */
  readonly t: number;
  /** The event's own time, capped at `t` (a producer cannot date an event into the future), epoch ms. */
  readonly eventTimeMs: number;
  readonly config: EngineConfig;
  readonly interner: PermInterner;
  /**
   * Signed by a producer key allowed to send this event type. Unsigned events are observations: they
   * can narrow, revoke, raise risk and raise alerts, never widen (see `@livescope/contracts` trust.ts).
   */
  readonly trusted: boolean;
  /** Whether an id names an identity livescope tracks (an approver must not be one). The ids asked about are listed by `identitiesRead`. */
  readonly isKnownIdentity: (id: string) => boolean;
}

export type PolicyInputTag = (typeof PolicyInput)[keyof typeof PolicyInput];

// Most events change nothing (unchanged risk scores, routine activity): no lists allocated for them.
const none = (state: IdentityState): Transition => ({ state, revocations: NONE, alerts: NONE, recompute: false });

/** Adds a tombstone (kept as a hash; see idHash), keeping the last `max`. */
const bounded = (list: readonly number[], item: string, max: number): number[] => ring(list, idHash(item), max);

export const toMs = (iso: string): number => Date.parse(iso);

function perms(interner: PermInterner, list: readonly Permission[]): Perm[] {
  return list.map((p) => interner.intern(p));
}

function sessionRevocations(sessions: readonly Session[], reason: string): RevocationIntent[] {
  const out: RevocationIntent[] = [];
  for (const s of sessions) {
    out.push({ target: { type: 'session', id: s.sessionId, system: s.system }, reason });
    if (s.tokenId !== undefined) out.push({ target: { type: 'token', id: s.tokenId, system: s.system }, reason });
  }
  return out;
}

export function leaseRevocations(leases: readonly Lease[], reason: string): RevocationIntent[] {
  return leases.map((l) => ({ target: { type: 'lease', id: l.leaseId, system: l.system, secretPath: l.secretPath }, reason }));
}

/**
 * Ends a session: removes it, the just-in-time grants bound to it, and the leases taken in it
 * (revoked). `revokeSession` also revokes the session itself at its issuer.
 */
export function endSession(state: IdentityState, sessionId: string, reason: string, revokeSession: boolean, config: EngineConfig): { state: IdentityState; revocations: RevocationIntent[] } {
  const session = state.sessions.find((s) => s.sessionId === sessionId);
  const leases = state.leases.filter((l) => l.sessionId === sessionId);
  const revocations = [...(revokeSession && session ? sessionRevocations([session], reason) : []), ...leaseRevocations(leases, reason)];
  return {
    state: {
      ...state,
      sessions: state.sessions.filter((s) => s.sessionId !== sessionId),
      jit: state.jit.filter((g) => g.sessionId !== sessionId),
      leases: state.leases.filter((l) => l.sessionId !== sessionId),
      approvals: state.approvals.filter((a) => a.sessionId !== sessionId),
      tombstones: bounded(state.tombstones, `session:${sessionId}`, config.tombstones),
    },
    revocations,
  };
}

/** Everything the identity holds dies at once: offboarding, disabling, quarantine. */
export function revokeEverything(state: IdentityState, reason: string): RevocationIntent[] {
  return [...sessionRevocations(state.sessions, reason), ...leaseRevocations(state.leases, reason)];
}

/**
 * Applies one identity-scoped event at logical time `t` (epoch ms). Pure: returns the new state
 * and the intents; never touches the scope itself (the engine recomputes it).
 * Out-of-order delivery is resolved by event time where it matters: risk scores are
 * last-writer-wins by event time, and tombstones stop late events from reviving ended sessions,
 * revoked grants, leases and approvals.
 */
export function evolveIdentity(state: IdentityState | undefined, event: IdentityEvent, ctx: EvolveContext): Transition {
  const { t, config, interner, trusted } = ctx;
  const eventTimeMs = ctx.eventTimeMs;
  if (event.type === 'identity.created') {
    const d = event.data;
    const attributes = { kind: d.kind, name: d.name === event.subject ? event.subject : d.name, namespace: interner.text(d.namespace), owner: interner.text(d.owner), labels: interner.labels(d.labels) };
    if (state) {
      if (state.status === 'deleted') return { ...none(state), reject: { reason: 'identity-deleted', message: `identity ${state.id} was deleted; ids are not reused` } };
      // A trusted producer attests an identity first seen in an observation: its attributes win.
      if (trusted && !state.attested) return { state: { ...state, ...attributes, attested: true, lifecycleAt: Math.max(state.lifecycleAt, eventTimeMs) }, revocations: [], alerts: [], recompute: true };
      return none(state); // re-announcement of an existing identity: attributes come with identity.updated
    }
    const created = newIdentity({ id: event.subject, ...attributes, at: t, attested: trusted, lifecycleAt: eventTimeMs });
    return { state: created, revocations: [], alerts: [], recompute: true };
  }
  if (!state) return { ...none(undefined as never), reject: { reason: 'unknown-identity', message: `no identity.created seen for ${event.subject}` } };
  if (state.status === 'deleted') return { ...none(state), reject: { reason: 'identity-deleted', message: `identity ${state.id} was deleted` } };
  const dead = (id: string): boolean => state.tombstones.includes(idHash(id));

  switch (event.type) {
    case 'identity.updated': {
      const d = event.data;
      return {
        state: {
          ...state,
          name: d.name ?? state.name,
          namespace: d.namespace === undefined ? state.namespace : interner.text(d.namespace),
          owner: d.owner === undefined ? state.owner : interner.text(d.owner),
          labels: d.labels === undefined ? state.labels : interner.labels(d.labels),
          attested: true,
        },
        revocations: [],
        alerts: [],
        recompute: true,
      };
    }
    case 'identity.disabled':
      return {
        state: { ...state, status: 'disabled', sessions: [], leases: [], approvals: [], lifecycleAt: Math.max(state.lifecycleAt, eventTimeMs) },
        revocations: revokeEverything(state, `identity disabled: ${event.data.reason}`),
        alerts: [],
        recompute: true,
      };
    case 'identity.enabled':
      // An enable older than the last lifecycle change is a replay (or arrived late): it cannot undo a newer disable.
      if (state.status !== 'disabled' || eventTimeMs < state.lifecycleAt) return none(state);
      return { state: { ...state, status: 'active', lifecycleAt: eventTimeMs }, revocations: [], alerts: [], recompute: true };
    case 'identity.deleted':
      return {
        state: { ...state, status: 'deleted', grants: [], jit: [], sessions: [], leases: [], approvals: [], anomalies: [], lastUsed: {}, excessReported: [] },
        revocations: revokeEverything(state, `identity offboarded: ${event.data.reason}`),
        alerts: [],
        recompute: true,
      };

    case 'entitlement.granted': {
      const d = event.data;
      if (dead(`grant:${d.grantId}`)) return none(state);
      const grant = { grantId: d.grantId, role: d.role, perms: perms(interner, d.permissions), at: t };
      return { state: { ...state, grants: [...state.grants.filter((g) => g.grantId !== d.grantId), grant] }, revocations: [], alerts: [], recompute: true };
    }
    case 'entitlement.revoked': {
      const id = event.data.grantId;
      return {
        state: { ...state, grants: state.grants.filter((g) => g.grantId !== id), tombstones: bounded(state.tombstones, `grant:${id}`, config.tombstones) },
        revocations: [],
        alerts: [],
        recompute: true,
      };
    }
    case 'jit.granted': {
      const d = event.data;
      if (dead(`grant:${d.grantId}`) || (d.sessionId !== undefined && dead(`session:${d.sessionId}`))) return none(state);
      const grant = { grantId: d.grantId, perms: perms(interner, d.permissions), expiresAt: toMs(d.expiresAt), sessionId: d.sessionId, at: t };
      return { state: { ...state, jit: [...state.jit.filter((g) => g.grantId !== d.grantId), grant] }, revocations: [], alerts: [], recompute: true };
    }
    case 'jit.revoked': {
      const id = event.data.grantId;
      return { state: { ...state, jit: state.jit.filter((g) => g.grantId !== id), tombstones: bounded(state.tombstones, `grant:${id}`, config.tombstones) }, revocations: [], alerts: [], recompute: true };
    }

    case 'session.started': {
      const d = event.data;
      if (dead(`session:${d.sessionId}`)) return none(state);
      const existing = state.sessions.find((s) => s.sessionId === d.sessionId);
      // An observation cannot replace (and so downgrade or re-time) a session a trusted issuer started.
      if (!trusted && existing?.attested) return none(state);
      const session: Session = { sessionId: d.sessionId, task: d.task, mfa: d.mfa, tokenId: d.tokenId, system: interner.text(d.system), startedAt: t, expiresAt: d.expiresAt === undefined ? undefined : toMs(d.expiresAt), attested: trusted };
      // Candidates change only through just-in-time grants bound to this session; an expiry is a new wake-up.
      const full = session.expiresAt !== undefined || state.jit.some((g) => g.sessionId === d.sessionId) || state.approvals.some((a) => a.sessionId === d.sessionId);
      return { state: { ...state, sessions: [...state.sessions.filter((s) => s.sessionId !== d.sessionId), session] }, revocations: [], alerts: [], recompute: !trusted ? false : full || PolicyInput.session };
    }
    case 'session.task-changed':
    case 'session.mfa-verified': {
      const d = event.data;
      const idx = state.sessions.findIndex((s) => s.sessionId === d.sessionId);
      if (idx < 0) return none(state);
      const s = state.sessions[idx]!;
      // What policies see of an attested session comes from its issuer only.
      if (s.attested && !trusted) return { ...none(state), reject: { reason: 'unauthorized-producer', message: `${event.type} for attested session ${s.sessionId} must be signed by a producer allowed to send it` } };
      const next = event.type === 'session.task-changed' ? { ...s, task: event.data.task } : { ...s, mfa: true };
      const sessions = state.sessions.slice();
      sessions[idx] = next;
      return { state: { ...state, sessions }, revocations: [], alerts: [], recompute: PolicyInput.session };
    }
    case 'session.approval-granted': {
      const d = event.data;
      if (dead(`approval:${d.approvalId}`)) return none(state);
      const a = d.approver;
      // Only a person may approve an escalation, never the identity itself or another machine.
      const invalid =
        a === undefined
          ? 'carries no verified approver'
          : a.kind !== 'human'
            ? `was given by a ${a.kind} (${a.subject}), not a human`
            : a.evidence === 'none'
              ? `has no evidence that ${a.subject} is a human`
              : a.subject === state.id || d.approvedBy === state.id
                ? `was given by ${state.id} itself`
                : ctx.isKnownIdentity(a.subject) || ctx.isKnownIdentity(d.approvedBy)
                  ? `was given by ${ctx.isKnownIdentity(a.subject) ? a.subject : d.approvedBy}, a non-human identity livescope tracks`
                  : undefined;
      if (invalid !== undefined) return { ...none(state), reject: { reason: 'invalid-approval', message: `approval ${d.approvalId} of ${d.escalation} for ${state.id} ${invalid}` } };
      const approval = { approvalId: d.approvalId, escalation: d.escalation, sessionId: d.sessionId, approvedBy: d.approvedBy, expiresAt: toMs(d.expiresAt), human: true };
      return { state: { ...state, approvals: [...state.approvals.filter((x) => x.approvalId !== d.approvalId), approval] }, revocations: [], alerts: [], recompute: d.sessionId !== undefined ? true : PolicyInput.approvals };
    }
    case 'session.approval-revoked': {
      const id = event.data.approvalId;
      return {
        state: { ...state, approvals: state.approvals.filter((a) => a.approvalId !== id), tombstones: bounded(state.tombstones, `approval:${id}`, config.tombstones) },
        revocations: [],
        alerts: [],
        recompute: PolicyInput.approvals,
      };
    }
    case 'session.task-completed': {
      // The task is done: the session, its just-in-time grants and its leases end now, revoked at their systems.
      const ended = endSession(state, event.data.sessionId, 'task completed', true, config);
      return { state: ended.state, revocations: ended.revocations, alerts: [], recompute: sessionEndRecompute(state, event.data.sessionId) };
    }
    case 'session.ended': {
      const ended = endSession(state, event.data.sessionId, `session ended${event.data.reason ? `: ${event.data.reason}` : ''}`, false, config);
      return { state: ended.state, revocations: ended.revocations, alerts: [], recompute: sessionEndRecompute(state, event.data.sessionId) };
    }

    case 'telemetry.risk-scored': {
      const eventTime = eventTimeMs;
      // Unchanged scores are the bulk of telemetry: they must cost nothing (no state write).
      if (eventTime < state.riskAt || state.riskScore === event.data.score) return none(state);
      // An unsigned observation may raise the risk, never lower it (lowering can widen).
      if (!trusted && event.data.score < state.riskScore) return none(state);
      return { state: { ...state, riskScore: event.data.score, riskAt: eventTime }, revocations: [], alerts: [], recompute: PolicyInput.riskScore };
    }
    case 'telemetry.anomaly-detected': {
      const d = event.data;
      const anomaly = { anomalyId: d.anomalyId, kind: d.kind, severity: d.severity, expiresAt: toMs(d.expiresAt) };
      return { state: { ...state, anomalies: [...state.anomalies.filter((a) => a.anomalyId !== d.anomalyId && a.expiresAt > t), anomaly] }, revocations: [], alerts: [], recompute: PolicyInput.anomalies };
    }
    case 'telemetry.activity': {
      const key = `${event.data.action}\u0000${event.data.resource}`;
      // Use is recorded at a coarse granularity: routine activity must not rewrite state on every event.
      if (t - (state.lastUsed[key] ?? Number.NEGATIVE_INFINITY) < config.usageGranularityMs && !state.excessReported.includes(key)) return none(state);
      return { state: markUsed(state, [key], t), revocations: [], alerts: [], recompute: false };
    }
    case 'telemetry.token-replay-detected': {
      const d = event.data;
      const sessions = state.sessions.filter((s) => s.sessionId === d.sessionId || (s.tokenId !== undefined && s.tokenId === d.tokenId));
      let next: IdentityState = { ...state, riskScore: Math.max(state.riskScore, config.replayRiskScore), riskAt: Math.max(state.riskAt, eventTimeMs) };
      const revocations: RevocationIntent[] = [];
      for (const s of sessions) {
        const ended = endSession(next, s.sessionId, 'token replay detected', true, config);
        next = ended.state;
        revocations.push(...ended.revocations);
      }
      if (!revocations.some((r) => r.target.type === 'token' && r.target.id === d.tokenId)) {
        revocations.push({ target: { type: 'token', id: d.tokenId, system: sessions[0]?.system ?? 'livescope' }, reason: 'token replay detected' });
      }
      return {
        state: next,
        revocations,
        alerts: [{ type: 'token-replay', severity: 'critical', summary: `replayed token ${d.tokenId} for ${state.id}`, details: { tokenId: d.tokenId, sessionId: d.sessionId, evidence: d.evidence } }],
        recompute: sessions.length > 0 ? true : PolicyInput.riskScore,
      };
    }
    case 'telemetry.human-use-detected': {
      const d = event.data;
      return {
        state: { ...state, humanUseUntil: Math.max(state.humanUseUntil, t + config.humanUseTtlMs) },
        revocations: [],
        alerts: [{ type: 'human-use', severity: 'high', summary: `a human used non-human identity ${state.id}`, details: { evidence: d.evidence, sourceIp: d.sourceIp, sessionId: d.sessionId } }],
        recompute: PolicyInput.humanUse,
      };
    }

    case 'secret.lease-created': {
      const d = event.data;
      if (dead(`lease:${d.leaseId}`)) return none(state);
      const lease: Lease = { leaseId: d.leaseId, secretPath: d.secretPath, system: d.system, sessionId: d.sessionId, expiresAt: toMs(d.expiresAt) };
      const leases = [...state.leases.filter((l) => l.leaseId !== d.leaseId && l.expiresAt > t), lease];
      // A lease taken in a session that already ended is revoked at once.
      if (d.sessionId !== undefined && dead(`session:${d.sessionId}`)) {
        return { state: { ...state, leases: leases.filter((l) => l !== lease), tombstones: bounded(state.tombstones, `lease:${d.leaseId}`, config.tombstones) }, revocations: leaseRevocations([lease], 'lease taken in an ended session'), alerts: [], recompute: false };
      }
      return { state: { ...state, leases }, revocations: [], alerts: [], recompute: false };
    }
    case 'secret.lease-renewed': {
      const idx = state.leases.findIndex((l) => l.leaseId === event.data.leaseId);
      if (idx < 0) return none(state);
      const leases = state.leases.slice();
      leases[idx] = { ...leases[idx]!, expiresAt: toMs(event.data.expiresAt) };
      return { state: { ...state, leases }, revocations: [], alerts: [], recompute: false };
    }
    case 'secret.lease-revoked': {
      const id = event.data.leaseId;
      return { state: { ...state, leases: state.leases.filter((l) => l.leaseId !== id), tombstones: bounded(state.tombstones, `lease:${id}`, config.tombstones) }, revocations: [], alerts: [], recompute: false };
    }
    case 'secret.accessed': {
      const d = event.data;
      const live = state.sessions.some((s) => s.expiresAt === undefined || s.expiresAt > t);
      const used = markUsed(state, [`secrets:${d.operation}\u0000${d.secretPath}`], t);
      if (live) return { state: used, revocations: [], alerts: [], recompute: false };
      return {
        state: used,
        revocations: [],
        alerts: [{ type: 'secret-access-without-session', severity: 'high', summary: `${state.id} accessed ${d.secretPath} with no active session`, details: { secretPath: d.secretPath, operation: d.operation, system: d.system, leaseId: d.leaseId } }],
        recompute: false,
      };
    }

    case 'enforcement.decisions': {
      const d = event.data;
      const used = d.decisions
        .filter((x) => x.allowed > 0)
        .map((x) => `${x.action}\u0000${x.resource}`)
        .filter((k) => t - (state.lastUsed[k] ?? Number.NEGATIVE_INFINITY) >= config.usageGranularityMs || state.excessReported.includes(k));
      const denied = d.decisions.filter((x) => x.denied > 0);
      const alerts: AlertIntent[] = denied.length
        ? [
            {
              type: 'out-of-scope-attempt',
              severity: denied.some((x) => x.action.includes('admin')) ? 'high' : 'medium',
              summary: `${state.id} attempted ${denied.length} out-of-scope action${denied.length === 1 ? '' : 's'} at ${d.enforcerId}`,
              details: { enforcerId: d.enforcerId, windowStart: d.windowStart, windowEnd: d.windowEnd, attempts: denied.map((x) => ({ action: x.action, resource: x.resource, count: x.denied, sessionId: x.sessionId, reason: x.reason })) },
            },
          ]
        : [];
      return { state: used.length ? markUsed(state, used, t) : state, revocations: [], alerts, recompute: false };
    }
    default: {
      // Every type is handled above; an unknown one (a contract newer than this engine) is refused, never guessed.
      const unknown: never = event;
      return { ...none(state), reject: { reason: 'unsupported', message: `event type ${String((unknown as { type?: unknown }).type)} is not supported by this engine` } };
    }
  }
}

/** Ending a session changes candidates only when just-in-time grants were bound to it. */
function sessionEndRecompute(state: IdentityState, sessionId: string): boolean | PolicyInputTag {
  // Observed sessions are invisible to policies and enforcement points: ending one changes no scope.
  if (!state.sessions.some((s) => s.sessionId === sessionId && s.attested)) return false;
  return state.jit.some((g) => g.sessionId === sessionId) || state.approvals.some((a) => a.sessionId === sessionId) || PolicyInput.session;
}

/** The (interned, shared) key of a provisioned permission, or undefined when `key` is not provisioned. */
function provisionedKey(state: IdentityState, key: string): string | undefined {
  for (const g of state.grants) for (const p of g.perms) if (p.key === key) return p.key;
  for (const g of state.jit) for (const p of g.perms) if (p.key === key) return p.key;
  return undefined;
}

/** Records use of provisioned permissions only: memory stays bounded by what was granted. */
function markUsed(state: IdentityState, candidates: readonly string[], t: number): IdentityState {
  const keys: string[] = [];
  for (const c of candidates) {
    const k = provisionedKey(state, c);
    if (k !== undefined) keys.push(k);
  }
  if (keys.length === 0) return state;
  const lastUsed = { ...state.lastUsed };
  for (const k of keys) lastUsed[k] = Math.max(lastUsed[k] ?? 0, t);
  const excessReported = state.excessReported.filter((k) => !keys.includes(k));
  return { ...state, lastUsed, excessReported };
}
