import { PolicyError, type CompiledPolicySet, type PolicyInfo } from '@livescope/policy';
import { compileScopePolicy } from './cedarScopePolicy.js';

/**
 * Pure helpers of the policy lifecycle beside the impact (`policyImpact.ts`): validation of a set
 * of policy files with each problem located (file, line, column), a textual diff per file, and a
 * semantic diff per policy (effect, scope constraints, conditions, what each reads).
 */

export interface PolicyFileText {
  readonly id: string;
  readonly text: string;
}

export interface ValidationProblem {
  /** The file (its id: the file name without `.cedar`) the problem is in, when known. */
  readonly file?: string;
  readonly policyId?: string;
  /** 1-based, in the file's text. */
  readonly line?: number;
  readonly column?: number;
  readonly code: string;
  readonly message: string;
  readonly help?: string;
}

export interface ValidationResult {
  readonly valid: boolean;
  readonly problems: readonly ValidationProblem[];
  /** Policies of a valid set: id, effect and file. */
  readonly policies: readonly { readonly id: string; readonly effect: string; readonly file: string }[];
}

const fileOf = (files: readonly PolicyFileText[], source: string | undefined, policyId: string | undefined): string | undefined => {
  if (source !== undefined && files.some((f) => f.id === source)) return source;
  const base = policyId?.replace(/#\d+$/, '');
  return base !== undefined && files.some((f) => f.id === base) ? base : undefined;
};

/** Compiles the files as the workers do and reports every problem with its file, line and column. */
export function validatePolicyFiles(files: readonly PolicyFileText[]): ValidationResult {
  if (files.length === 0) return { valid: false, problems: [{ code: 'POLICY_EMPTY', message: 'no policy files: a set needs at least one .cedar file' }], policies: [] };
  const ids = new Set<string>();
  for (const f of files) {
    if (ids.has(f.id)) return { valid: false, problems: [{ file: f.id, code: 'POLICY_PARSE', message: `two files have the id ${f.id}` }], policies: [] };
    ids.add(f.id);
  }
  try {
    // Version 1 and a compile outside the workers' cache key space are irrelevant: only validity is asked.
    const set = compileScopePolicy(files, 1).compiled;
    return { valid: true, problems: [], policies: set.policies.map((p) => ({ id: p.id, effect: p.effect, file: fileOf(files, p.source, p.id) ?? p.source })) };
  } catch (e) {
    if (!PolicyError.is(e)) throw e;
    const err = e;
    const list = err.details.problems && err.details.problems.length > 0 ? err.details.problems : [{ ...err.details, message: err.message }];
    const problems = list.map((p): ValidationProblem => {
      const file = fileOf(files, p.source, p.policyId);
      return {
        ...(file !== undefined ? { file } : {}),
        ...(p.policyId !== undefined ? { policyId: p.policyId } : {}),
        ...(p.line !== undefined ? { line: p.line } : {}),
        ...(p.column !== undefined ? { column: p.column } : {}),
        code: err.code,
        message: p.message,
        ...(p.help !== undefined ? { help: p.help } : {}),
      };
    });
    return { valid: false, problems, policies: [] };
  }
}

// --- textual diff --------------------------------------------------------------------------------
export interface DiffLine {
  readonly op: ' ' | '+' | '-';
  readonly text: string;
}

export interface FileDiff {
  readonly file: string;
  readonly change: 'added' | 'removed' | 'modified';
  /** Unified hunks with three lines of context. */
  readonly hunks: readonly { readonly fromLine: number; readonly toLine: number; readonly lines: readonly DiffLine[] }[];
}

/** Longest-common-subsequence line diff (files are small: policies, not data). Bounded at 4,000 lines a side. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  const MAX = 4000;
  if (a.length > MAX || b.length > MAX) return [...a.map((text) => ({ op: '-' as const, text })), ...b.map((text) => ({ op: '+' as const, text }))];
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', text: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ op: '-', text: a[i++]! });
    else out.push({ op: '+', text: b[j++]! });
  }
  while (i < n) out.push({ op: '-', text: a[i++]! });
  while (j < m) out.push({ op: '+', text: b[j++]! });
  return out;
}

function hunksOf(lines: readonly DiffLine[], context = 3): FileDiff['hunks'] {
  const hunks: { fromLine: number; toLine: number; lines: DiffLine[] }[] = [];
  let ai = 1;
  let bi = 1;
  let current: { fromLine: number; toLine: number; lines: DiffLine[] } | undefined;
  let lastChange = -Infinity;
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k]!;
    const changeAhead = lines.slice(k, k + context + 1).some((x) => x.op !== ' ');
    if (l.op !== ' ') lastChange = k;
    const keep = l.op !== ' ' || changeAhead || k - lastChange <= context;
    if (keep) {
      if (!current) {
        current = { fromLine: ai, toLine: bi, lines: [] };
        hunks.push(current);
      }
      current.lines.push(l);
    } else current = undefined;
    if (l.op !== '+') ai++;
    if (l.op !== '-') bi++;
  }
  return hunks;
}

/** Per-file unified diff of two sets of files (by id). */
export function diffPolicyTexts(from: readonly PolicyFileText[], to: readonly PolicyFileText[]): FileDiff[] {
  const a = new Map(from.map((f) => [f.id, f.text]));
  const b = new Map(to.map((f) => [f.id, f.text]));
  const ids = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: FileDiff[] = [];
  for (const id of ids) {
    const x = a.get(id);
    const y = b.get(id);
    if (x === y) continue;
    const split = (t: string | undefined): string[] => (t === undefined ? [] : t.replace(/\n$/, '').split('\n'));
    out.push({ file: id, change: x === undefined ? 'added' : y === undefined ? 'removed' : 'modified', hunks: hunksOf(diffLines(split(x), split(y))) });
  }
  return out;
}

// --- semantic diff -------------------------------------------------------------------------------
export interface PolicySummary {
  readonly id: string;
  readonly effect: string;
  /** The scope as Cedar text: `principal in Livescope::Role::"oncall"`, `action == Livescope::Action::"vault:read"`. */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** What the decision reads: context paths, principal and resource attributes and tags. */
  readonly reads: readonly string[];
}

export interface PolicyChange {
  readonly id: string;
  readonly change: 'added' | 'removed' | 'modified';
  readonly before?: PolicySummary;
  readonly after?: PolicySummary;
  /** For a modified policy: which of effect, principal, action, resource, conditions changed. */
  readonly changed?: readonly ('effect' | 'principal' | 'action' | 'resource' | 'conditions')[];
}

type Constraint = NonNullable<PolicyInfo['scope']>['principal'] | NonNullable<PolicyInfo['scope']>['action'];

function constraintText(slot: string, c: Constraint | undefined): string {
  if (!c || c.op === 'all') return slot;
  const uid = (e: { type: string; id: string }): string => `${e.type}::${JSON.stringify(e.id)}`;
  if (c.op === '==') return `${slot} == ${uid(c.entity as { type: string; id: string })}`;
  if (c.op === 'in') {
    if ('entities' in c) return `${slot} in [${c.entities.map((e) => uid(e)).join(', ')}]`;
    return `${slot} in ${uid(c.entity as { type: string; id: string })}`;
  }
  if (c.op === 'is') return `${slot} is ${c.entityType}${c.in ? ` in ${uid(c.in as { type: string; id: string })}` : ''}`;
  return slot;
}

function summary(p: PolicyInfo): PolicySummary {
  const u = p.inputs;
  const reads = [
    ...u.context.map((c) => (c === '' ? 'context' : `context.${c}`)),
    ...u.principal.attrs.map((a) => `principal.${a}`),
    ...u.principal.tags.map((t) => `principal tag ${t}`),
    ...(u.principal.hierarchy ? ['principal roles'] : []),
    ...u.resource.attrs.map((a) => `resource.${a}`),
    ...u.resource.tags.map((t) => `resource tag ${t}`),
    ...(u.readsNow && !u.context.includes('now') ? ['context.now'] : []),
  ];
  return { id: p.id, effect: p.effect, principal: constraintText('principal', p.scope?.principal), action: constraintText('action', p.scope?.action), resource: constraintText('resource', p.scope?.resource), reads: [...new Set(reads)].sort() };
}

/** Strips comments, annotations and whitespace runs: what is left decides. */
function normalized(text: string): string {
  return text
    .replace(/\/\/[^\n]*/g, '')
    .replace(/@\w+\s*\([^)]*\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

const conditionsOf = (text: string): string => {
  const n = normalized(text);
  const at = n.search(/\)\s*(when|unless)\b/);
  return at < 0 ? '' : n.slice(at + 1);
};

/**
 * Which policies differ between two compiled sets, and how: added, removed, or modified with the
 * parts that changed. A change in comments or layout only is not a change.
 */
export function diffPolicySets(before: CompiledPolicySet | undefined, after: CompiledPolicySet): PolicyChange[] {
  const a = new Map((before?.policies ?? []).map((p) => [p.id, p]));
  const b = new Map(after.policies.map((p) => [p.id, p]));
  const out: PolicyChange[] = [];
  for (const id of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(id);
    const y = b.get(id);
    if (!x) out.push({ id, change: 'added', after: summary(y!) });
    else if (!y) out.push({ id, change: 'removed', before: summary(x) });
    else if (normalized(x.text) !== normalized(y.text)) {
      const sx = summary(x);
      const sy = summary(y);
      const changed: NonNullable<PolicyChange['changed']>[number][] = [];
      if (sx.effect !== sy.effect) changed.push('effect');
      if (sx.principal !== sy.principal) changed.push('principal');
      if (sx.action !== sy.action) changed.push('action');
      if (sx.resource !== sy.resource) changed.push('resource');
      if (conditionsOf(x.text) !== conditionsOf(y.text)) changed.push('conditions');
      out.push({ id, change: 'modified', before: sx, after: sy, changed });
    }
  }
  return out;
}
