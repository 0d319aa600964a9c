import { cedarWasm, toWasmJson } from '@livescope/policy';
import type { RandomCase } from './randomCedar.js';

export type OracleAnswer = { refused: true; message: string } | { refused: false; decision: 'allow' | 'deny'; reason: string[]; errors: string[] };

/** cedar-wasm's answer to a case (bigints passed exactly, see `toWasmJson`). */
export function oracle(c: RandomCase, context: RandomCase['context'] = c.context): OracleAnswer {
  const answer = cedarWasm.isAuthorized({
    principal: c.principal,
    action: c.action,
    resource: c.resource,
    context: toWasmJson(context) as never,
    entities: toWasmJson(c.entities) as never,
    policies: { staticPolicies: c.policies, templates: c.templates, templateLinks: c.links },
  });
  if (answer.type === 'failure') return { refused: true, message: answer.errors.map((e) => e.message).join('; ') };
  return {
    refused: false,
    decision: answer.response.decision,
    reason: answer.response.diagnostics.reason,
    errors: answer.response.diagnostics.errors.map((e) => e.policyId),
  };
}
