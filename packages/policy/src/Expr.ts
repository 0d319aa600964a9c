import type { CedarValue } from './CedarValue.js';
import type { EntityUid } from './EntityUid.js';

/**
 * The compiler's view of a Cedar policy: the JSON policy format (EST) of cedar-wasm, normalised to
 * exact values (integer literals beyond 2^53 restored, entity literals as `EntityUid`, constants as
 * native values). Analysis, the horizon and the compiler all read this tree.
 */
export type Var = 'principal' | 'action' | 'resource' | 'context';
export type SlotId = '?principal' | '?resource';

export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | 'in' | 'contains' | 'containsAll' | 'containsAny' | 'getTag' | 'hasTag';

/** One element of a `like` pattern: a wildcard or literal text. */
export type LikeElem = { readonly wildcard: true } | { readonly literal: string };

export type Expr =
  | { readonly kind: 'lit'; readonly value: CedarValue }
  | { readonly kind: 'var'; readonly name: Var }
  | { readonly kind: 'slot'; readonly name: SlotId }
  | { readonly kind: 'not' | 'neg' | 'isEmpty'; readonly arg: Expr }
  | { readonly kind: 'and' | 'or'; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'attr'; readonly left: Expr; readonly attr: string }
  | { readonly kind: 'has'; readonly left: Expr; readonly path: readonly string[] }
  | { readonly kind: 'like'; readonly left: Expr; readonly pattern: readonly LikeElem[] }
  | { readonly kind: 'is'; readonly left: Expr; readonly entityType: string; readonly in?: Expr }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: Expr; readonly else: Expr }
  | { readonly kind: 'set'; readonly elements: readonly Expr[] }
  | { readonly kind: 'record'; readonly fields: readonly (readonly [string, Expr])[] }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Expr[] };

/** An entity in a scope constraint: a literal, or a template slot until the template is linked. */
export type ScopeEntity = EntityUid | SlotId;

/** Scope constraint on the principal or the resource. */
export type ScopeConstraint =
  | { readonly op: 'all' }
  | { readonly op: '=='; readonly entity: ScopeEntity }
  | { readonly op: 'in'; readonly entity: ScopeEntity }
  | { readonly op: 'is'; readonly entityType: string; readonly in?: ScopeEntity };

/** Scope constraint on the action (`action in A` is kept as a one-element list). */
export type ActionConstraint =
  | { readonly op: 'all' }
  | { readonly op: '=='; readonly entity: EntityUid }
  | { readonly op: 'in'; readonly entities: readonly EntityUid[] };

export interface Condition {
  readonly kind: 'when' | 'unless';
  readonly body: Expr;
}

export type Effect = 'permit' | 'forbid';

/** A whole policy (or template) in compiler form. */
export interface PolicyIr {
  readonly effect: Effect;
  readonly principal: ScopeConstraint;
  readonly action: ActionConstraint;
  readonly resource: ScopeConstraint;
  readonly conditions: readonly Condition[];
  readonly annotations: Readonly<Record<string, string>>;
}
