import type { Selector } from '@livescope/contracts';

/** Exit codes of the `livescope` CLI. */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  /** Unauthenticated (401) or forbidden (403). */
  denied: 3,
  /** A --wait (or another bounded wait) ran out. */
  timeout: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A wrong invocation (exit code 2). */
export class UsageError extends Error {}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `2h`, `1d`, `500ms`, or a number of seconds → milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new UsageError(`${what}: expected a duration such as 90s, 15m, 2h or 1d, got "${text}"`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']!;
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`${what}: must be positive`);
  return Math.round(ms);
}

/**
 * `kind=workload,namespace=payments,owner=team-a,label.app=api,role=db-admin` → a selector.
 * Labels are `label.<key>=<value>`; `role` may repeat.
 */
export function parseSelector(text: string): Selector {
  const out: { kind?: string; namespace?: string; owner?: string; labels?: Record<string, string>; roles?: string[] } = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--selector: "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!value) throw new UsageError(`--selector: ${key} has no value`);
    if (key === 'kind' || key === 'namespace' || key === 'owner') out[key] = value;
    else if (key === 'role') (out.roles ??= []).push(value);
    else if (key.startsWith('label.') && key.length > 6) (out.labels ??= {})[key.slice(6)] = value;
    else throw new UsageError(`--selector: unknown key ${key} (use kind, namespace, owner, role, label.<name>)`);
  }
  if (Object.keys(out).length === 0) throw new UsageError('--selector: give at least one key=value');
  return out as Selector;
}

export type TargetInput = { identityId: string } | { selector: Selector } | { all: true };

/** Exactly one of an identity argument, --selector or --all. */
export function parseTarget(identity: string | undefined, opts: { selector?: string; all?: boolean }): TargetInput {
  const given = [identity !== undefined, opts.selector !== undefined, opts.all === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError('name the target: an identity id, or --selector key=value,..., or --all');
  if (identity !== undefined) return { identityId: identity };
  if (opts.selector !== undefined) return { selector: parseSelector(opts.selector) };
  return { all: true };
}

/** Renders a target for humans. */
export function describeTarget(t: unknown): string {
  if (typeof t !== 'object' || t === null) return String(t);
  const o = t as Record<string, unknown>;
  if (typeof o.identityId === 'string') return o.identityId;
  if (o.all === true) return 'all identities';
  if (typeof o.selector === 'object' && o.selector !== null) {
    const s = o.selector as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of ['kind', 'namespace', 'owner']) if (typeof s[k] === 'string') parts.push(`${k}=${s[k]}`);
    for (const [k, v] of Object.entries((s.labels as Record<string, string> | undefined) ?? {})) parts.push(`label.${k}=${v}`);
    for (const r of (s.roles as string[] | undefined) ?? []) parts.push(`role=${r}`);
    return parts.join(',');
  }
  return JSON.stringify(t);
}
