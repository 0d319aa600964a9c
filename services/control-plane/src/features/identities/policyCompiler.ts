import { compileScopePolicy, type PolicyCompiler } from '@livescope/scope-engine';

/**
 * The compiler explain evaluates published policy sets with: scope-engine's Cedar adapter, the
 * same one the workers run, so an explanation names the policies that decided in the workers.
 * Before any set is published the engine's documented default applies (`permitAllPolicy`).
 */
export const builtInPolicyCompiler: PolicyCompiler = compileScopePolicy;
