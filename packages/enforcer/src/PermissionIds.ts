/**
 * Interned (action, resource) pairs. Every identity holding a permission refers to it by the same
 * small integer, so an identity's permissions are one flat array of numbers (`IdentityView.perms`)
 * and a decision resolves the requested pair once, in these maps shared by all identities (sized by
 * the organisation's distinct permissions, so they stay in the CPU caches), instead of in two maps
 * of the identity (each a cache miss with 100k identities held).
 *
 * Counted: a pair no identity holds any more is forgotten and its id reused, so the table is bounded
 * by the distinct permissions held, not by those ever seen.
 */
export class PermissionIds {
  /** action → resource → id. */
  private readonly ids = new Map<string, Map<string, number>>();
  /** id → identities holding it (0: free). */
  private readonly holders: number[] = [];
  private readonly actions: string[] = [];
  private readonly resources: string[] = [];
  private readonly free: number[] = [];

  /** The id of (action, resource), or undefined when no identity holds it. */
  get(action: string, resource: string): number | undefined {
    return this.ids.get(action)?.get(resource);
  }

  /** The id of (action, resource), counted as held by one more identity. */
  acquire(action: string, resource: string): number {
    let byResource = this.ids.get(action);
    if (!byResource) this.ids.set(action, (byResource = new Map<string, number>()));
    let id = byResource.get(resource);
    if (id === undefined) {
      id = this.free.pop() ?? this.holders.length;
      byResource.set(resource, id);
      this.holders[id] = 0;
      this.actions[id] = action;
      this.resources[id] = resource;
    }
    this.holders[id]!++;
    return id;
  }

  /** One identity holds `id` no more; the pair is forgotten when none does. */
  release(id: number): void {
    const left = --this.holders[id]!;
    if (left > 0) return;
    const action = this.actions[id]!;
    const byResource = this.ids.get(action);
    byResource?.delete(this.resources[id]!);
    if (byResource?.size === 0) this.ids.delete(action);
    this.actions[id] = '';
    this.resources[id] = '';
    this.free.push(id);
  }

  action(id: number): string {
    return this.actions[id]!;
  }

  resource(id: number): string {
    return this.resources[id]!;
  }

  /** Distinct pairs held. */
  get size(): number {
    return this.holders.length - this.free.length;
  }
}
