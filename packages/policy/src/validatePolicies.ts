import type { CedarSchema } from './CedarSchema.js';
import { wasm } from './cedarWasm.js';
import type { EntityUid } from './EntityUid.js';
import { byteOffsetToIndex, locateIndex } from './locateOffset.js';
import type { ParsedPolicy } from './parsePolicies.js';
import { PolicyError, PolicyErrorCode, type PolicyProblem } from './PolicyError.js';

/** A template link as cedar-wasm takes it. */
export interface WasmLink {
  readonly templateId: string;
  readonly newId: string;
  readonly values: Partial<Record<'?principal' | '?resource', EntityUid>>;
}

/** The cedar-wasm `PolicySet` of parsed policies: static ones by id, templates and links. */
export function wasmPolicySet(policies: readonly ParsedPolicy[], links: readonly WasmLink[]) {
  const staticPolicies: Record<string, string> = {};
  const templates: Record<string, string> = {};
  for (const p of policies) (p.kind === 'static' ? staticPolicies : templates)[p.id] = p.text;
  return {
    staticPolicies,
    templates,
    templateLinks: links.map((l) => ({
      templateId: l.templateId,
      newId: l.newId,
      values: Object.fromEntries(Object.entries(l.values).map(([k, u]) => [k, { type: u.type, id: u.id }])),
    })),
  };
}

/**
 * Strict validation by cedar-wasm's validator. Throws `POLICY_VALIDATION` listing every problem
 * with its policy id, line and column (in the text the policy came from).
 */
export function validatePolicies(schema: CedarSchema, policies: readonly ParsedPolicy[], links: readonly WasmLink[] = []): void {
  const answer = wasm.validate({
    schema: schema.source as Parameters<typeof wasm.validate>[0]['schema'],
    validationSettings: { mode: 'strict' },
    policies: wasmPolicySet(policies, links),
  });
  if (answer.type === 'failure') {
    throw new PolicyError(PolicyErrorCode.validation, `validation failed: ${answer.errors.map((e) => e.message).join('; ')}`, {
      problems: answer.errors.map((e) => ({ message: e.message, ...(e.help ? { help: e.help } : {}) })),
    });
  }
  if (answer.validationErrors.length === 0) return;
  const byId = new Map(policies.map((p) => [p.id, p]));
  const problems: PolicyProblem[] = answer.validationErrors.map(({ policyId, error }) => {
    const p = byId.get(policyId);
    const loc = error.sourceLocations?.[0];
    const pos = p && loc ? locateIndex(p.sourceText, p.offset + byteOffsetToIndex(p.text, loc.start)) : undefined;
    return {
      message: error.message,
      policyId,
      ...(p ? { source: p.source } : {}),
      ...(pos ? { line: pos.line, column: pos.column } : {}),
      ...(error.help ? { help: error.help } : {}),
    };
  });
  const first = problems[0] as PolicyProblem;
  const where = first.line === undefined ? '' : ` at ${first.source}:${first.line}:${first.column}`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  throw new PolicyError(PolicyErrorCode.validation, `${first.message}${where}${first.help ? ` — ${first.help}` : ''}${more}`, { ...first, problems });
}
