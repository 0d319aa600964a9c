/**
 * A Cedar entity reference (`Type::"id"`). Immutable and cheap to build: the engine makes a few per
 * evaluation, so the map key is computed lazily.
 */
export class EntityUid {
  // A plain field, not #private: this getter is on the evaluator's hottest path.
  private cachedKey: string | undefined = undefined;

  constructor(
    /** Fully qualified entity type, e.g. `Livescope::Identity`. */
    readonly type: string,
    readonly id: string,
  ) {}

  /**
   * Unambiguous map key. Entity type names never contain a NUL character, so the first NUL separates
   * the type from the id, whatever the id holds.
   */
  get key(): string {
    return (this.cachedKey ??= `${this.type}\u0000${this.id}`);
  }

  equals(other: EntityUid): boolean {
    return this === other || (this.type === other.type && this.id === other.id);
  }

  /** Cedar syntax, e.g. `Livescope::Role::"admin"`. */
  toString(): string {
    return `${this.type}::${JSON.stringify(this.id)}`;
  }
}

/** Shorthand for `new EntityUid(type, id)`. */
export function uid(type: string, id: string): EntityUid {
  return new EntityUid(type, id);
}

/** The map key of `(type, id)` without building an `EntityUid`. */
export function uidKey(type: string, id: string): string {
  return `${type}\u0000${id}`;
}
