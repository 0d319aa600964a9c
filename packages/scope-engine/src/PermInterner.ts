import type { Permission } from '@livescope/contracts';
import { permKey, type Perm } from './IdentityState.js';

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

  /** Labels with interned keys and values; the shared empty object when there are none. */
  labels(l: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
    if (l === undefined) return EMPTY_LABELS;
    let any = false;
    const out: Record<string, string> = {};
    for (const k in l) {
      any = true;
      out[this.text(k)] = this.text(l[k]!);
    }
    return any ? out : EMPTY_LABELS;
  }

  intern(p: Permission): Perm {
    const key = permKey(p.action, p.resource);
    const existing = this.perms.get(key);
    if (existing && sameAttributes(existing, p)) return existing;
    const perm: Perm = {
      key,
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
