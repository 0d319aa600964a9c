import type { PolicyFileText } from './policySetDiff.js';

/**
 * Seeded random edits of a policy set, for tests and benchmarks of the impact: each edit adds,
 * changes or removes one file with a policy that validates against the livescope schema, so a
 * sequence of edits is a plausible history of a policy repository. Deterministic for a seed.
 */

export interface EditVocabulary {
  readonly actions: readonly string[];
  readonly namespaces: readonly string[];
  readonly roles: readonly string[];
  readonly kinds: readonly string[];
  /** Label (tag) keys and values identities carry. */
  readonly labels: readonly (readonly [string, string])[];
}

export interface PolicyEdit {
  /** One line saying what the edit does. */
  readonly description: string;
  readonly files: readonly PolicyFileText[];
}

/** mulberry32: small, fast, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const q = (s: string): string => JSON.stringify(s);
const act = (a: string): string => `Livescope::Action::${q(a)}`;

/** Candidate policies: each narrows or widens a part of the fleet chosen at random. */
const generators: readonly ((r: () => number, v: EditVocabulary) => { what: string; text: string })[] = [
  (r, v) => {
    const a = pick(r, v.actions);
    const ns = pick(r, v.namespaces);
    return { what: `forbid ${a} for identities of namespace ${ns}`, text: `forbid (principal, action == ${act(a)}, resource)\nwhen { principal.namespace == ${q(ns)} };\n` };
  },
  (r, v) => {
    const k = pick(r, v.kinds);
    const group = pick(r, ['access:write', 'access:admin', 'access:read']);
    return { what: `forbid ${group} for ${k}s`, text: `forbid (principal, action in ${act(group)}, resource)\nwhen { principal.kind == ${q(k)} };\n` };
  },
  (r, v) => {
    const role = pick(r, v.roles);
    const ns = pick(r, v.namespaces);
    return { what: `forbid role ${role} on resources of namespace ${ns}`, text: `forbid (principal in Livescope::Role::${q(role)}, action, resource)\nwhen { resource has namespace && resource.namespace == ${q(ns)} };\n` };
  },
  (r, v) => {
    const [key, value] = pick(r, v.labels);
    return { what: `forbid writes to identities labelled ${key}=${value} without an MFA session`, text: `forbid (principal, action in ${act('access:write')}, resource)\nwhen { principal.hasTag(${q(key)}) && principal.getTag(${q(key)}) == ${q(value)} }\nunless { context.session.mfa };\n` };
  },
  (r) => {
    const n = 10 + Math.floor(r() * 80);
    return { what: `forbid writes and admin above risk ${n}`, text: `forbid (principal, action in [${act('access:write')}, ${act('access:admin')}], resource)\nwhen { context.riskScore >= ${n} || principal.riskScore >= ${n} };\n` };
  },
  (r, v) => {
    const a = pick(r, v.actions);
    return { what: `forbid ${a} outside a session`, text: `forbid (principal, action == ${act(a)}, resource)\nunless { context.session.active };\n` };
  },
  (r, v) => {
    const ns = pick(r, v.namespaces);
    return { what: `forbid everything to namespace ${ns} except reads`, text: `forbid (principal, action, resource)\nwhen { principal.namespace == ${q(ns)} }\nunless { action in ${act('access:read')} };\n` };
  },
  (r, v) => {
    const a = pick(r, v.actions);
    return { what: `forbid ${a} unless a person approved "${a}"`, text: `forbid (principal, action == ${act(a)}, resource)\nunless { context.humanApprovals.contains(${q(a)}) };\n` };
  },
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  if (xs.length === 0) throw new Error('pick from an empty list');
  return xs[Math.floor(r() * xs.length)]!;
}

/**
 * The next random edit of `files`: mostly adds or replaces a generated file (`edit-<n>`), sometimes
 * removes one (a generated one, or rarely an original, including the base permit: then the fleet
 * loses everything it holds). Never leaves the set empty.
 */
export function randomPolicyEdit(r: () => number, files: readonly PolicyFileText[], v: EditVocabulary, n: number): PolicyEdit {
  const generated = files.filter((f) => f.id.startsWith('edit-'));
  const roll = r();
  if (roll < 0.25 && generated.length > 0) {
    const victim = pick(r, generated);
    return { description: `remove ${victim.id}`, files: files.filter((f) => f !== victim) };
  }
  if (roll < 0.32 && files.length > 1) {
    const victim = pick(r, files);
    return { description: `remove ${victim.id}`, files: files.filter((f) => f !== victim) };
  }
  if (roll < 0.5 && generated.length > 0) {
    const target = pick(r, generated);
    const g = pick(r, generators)(r, v);
    return { description: `change ${target.id}: ${g.what}`, files: files.map((f) => (f === target ? { id: f.id, text: `@id(${q(f.id)})\n${g.text}` } : f)) };
  }
  if (roll < 0.55 && !files.some((f) => f.id === 'base')) {
    return { description: 'restore the base permit', files: [...files, { id: 'base', text: '@id("base")\npermit (principal, action, resource);\n' }] };
  }
  const g = pick(r, generators)(r, v);
  const id = `edit-${n}`;
  return { description: `add ${id}: ${g.what}`, files: [...files.filter((f) => f.id !== id), { id, text: `@id(${q(id)})\n${g.text}` }] };
}
