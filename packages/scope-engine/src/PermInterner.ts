import type { Permission } from '@livescope/contracts';
import { permKey, type Perm } from './IdentityState.js';
import { jsonStringBytes } from './limits.js';

const MAX_TEXTS = 100_000;
const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Shares one `Perm` object per distinct permission across the fleet: identities holding the same
 * role hold the same objects, which keeps state per identity small. Bounded by the number of
 * distinct permissions, not identities.
 */
export class PermInterner {
  private readonly perms = new Map<string, Perm>();
  private readonly texts = new Map<string, string>();
  private readonly labelSets = new Map<string, Readonly<Record<string, string>>>();

  /**
   * One copy of a low-cardinality string (kinds, namespaces, owners, label keys and values, role
   * names): every decoded event and state row brings its own copies otherwise. Bounded: past
   * `MAX_TEXTS` distinct values, strings are kept as they are.
   */
  text(s: string): string {
    const known = this.texts.get(s);
    if (known !== undefined) return known;
    if (this.texts.size < MAX_TEXTS) this.texts.set(s, s);
    return s;
  }

  /** One frozen labels object per distinct set of labels (interned keys and values). */
  labels(l: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
    if (l === undefined) return EMPTY_LABELS;
    let key = '';
    for (const k in l) key += `${k}\u0000${l[k]!}\u0000`;
    if (key === '') return EMPTY_LABELS;
    let shared = this.labelSets.get(key);
    if (shared === undefined) {
      const out: Record<string, string> = {};
      for (const k in l) out[this.text(k)] = this.text(l[k]!);
      // Frozen: one object is shared by every identity with these labels.
      shared = Object.freeze(out);
      if (this.labelSets.size < MAX_TEXTS) this.labelSets.set(key, shared);
    }
    return shared;
  }

  intern(p: Permission): Perm {
    const key = permKey(p.action, p.resource);
    const existing = this.perms.get(key);
    if (existing && sameAttributes(existing, p)) return existing;
    const perm: Perm = {
      key,
      jsonBytes: jsonStringBytes(p.action) + jsonStringBytes(p.resource),
      action: p.action,
      resource: p.resource,
      access: p.access,
      resourceType: p.resourceType,
      system: p.system,
      namespace: p.namespace,
      labels: p.labels,
    };
    // The latest definition of a permission wins for new grants; older grants keep their object.
    this.perms.set(key, perm);
    return perm;
  }

  get size(): number {
    return this.perms.size;
  }
}

function sameAttributes(a: Perm, p: Permission): boolean {
  if (a.access !== p.access || a.resourceType !== p.resourceType || a.system !== p.system || a.namespace !== p.namespace) return false;
  const la = a.labels ?? {};
  const lb = p.labels ?? {};
  const ka = Object.keys(la);
  return ka.length === Object.keys(lb).length && ka.every((k) => la[k] === lb[k]);
}
