import { describe, expect, it } from 'vitest';
import { compilePolicySet, livescopeSchemaText, PolicyError, PolicyErrorCode, type CompileOptions } from '@livescope/policy';

function failure(options: CompileOptions): PolicyError {
  try {
    compilePolicySet(options);
  } catch (e) {
    if (PolicyError.is(e)) return e;
    throw e;
  }
  throw new Error('expected a PolicyError');
}

describe('parse, validation and link errors', () => {
  it('malformed text: POLICY_PARSE with line and column', () => {
    const e = failure({ policies: 'permit(principal, action, resource);\n\nforbid(principal, action, resource)\n  when { context.riskScore >= };' });
    expect(e.code).toBe(PolicyErrorCode.parse);
    expect(e.details).toMatchObject({ line: 4, column: 31, source: 'policies' });
    expect(e.message).toMatch(/unexpected token/);
    expect(e.message).toContain('policies:4:31');
  });

  it('positions count characters, not UTF-8 bytes', () => {
    const e = failure({ policies: 'permit(principal, action, resource) when { "é€😀" == "x" && 1 + };' });
    // The `}` is the 65th UTF-16 unit (😀 takes two) though byte 70 in UTF-8.
    expect(e.details).toMatchObject({ line: 1, column: 65 });
  });

  it('positions are relative to the `{ id, text }` entry', () => {
    const e = failure({ policies: [{ id: 'ok', text: 'permit(principal, action, resource);' }, { id: 'bad', text: '// x\npermit(principal, action, resource) when { 1 + };' }] });
    expect(e.details).toMatchObject({ source: 'bad', line: 2, column: 48 });
  });

  it('a template in the static policies is refused with a pointer to `templates`', () => {
    const e = failure({ policies: 'permit(principal == ?principal, action, resource);' });
    expect(e.code).toBe(PolicyErrorCode.parse);
    expect(e.message).toMatch(/templates/);
  });

  it('integer literals beyond 64 bits do not parse', () => {
    expect(failure({ policies: 'permit(principal, action, resource) when { 9223372036854775808 > 0 };' }).code).toBe(PolicyErrorCode.parse);
  });

  it('unknown entity types: POLICY_VALIDATION with line, column and a hint', () => {
    const e = failure({ policies: 'permit(principal, action, resource);\npermit(principal is Livescope::Identiti, action, resource);', schema: livescopeSchemaText });
    expect(e.code).toBe(PolicyErrorCode.validation);
    expect(e.details).toMatchObject({ policyId: 'policy1', line: 2, column: 21 });
    expect(e.details.help).toMatch(/Livescope::Identity/);
  });

  it('type errors: POLICY_VALIDATION, every problem listed', () => {
    const e = failure({
      policies: [
        { id: 'a', text: 'forbid(principal, action, resource) when { principal.riskScore == "high" };' },
        { id: 'b', text: 'forbid(principal, action, resource)\nwhen { context.approvals.contains(1) || principal.nope };' },
      ],
      schema: livescopeSchemaText,
    });
    expect(e.code).toBe(PolicyErrorCode.validation);
    expect(e.details.problems?.map((p) => p.policyId)).toEqual(expect.arrayContaining(['a', 'b']));
    expect(e.details.problems?.find((p) => p.policyId === 'b')).toMatchObject({ source: 'b', line: 2 });
  });

  it('an optional attribute read without `has` does not validate', () => {
    const e = failure({ policies: 'forbid(principal, action, resource) when { resource.namespace == "pay" };', schema: livescopeSchemaText });
    expect(e.code).toBe(PolicyErrorCode.validation);
  });

  it('bad schema: POLICY_SCHEMA with line and column', () => {
    const e = failure({ policies: 'permit(principal, action, resource);', schema: 'namespace X {\n  entity A = { a: Long \n' });
    expect(e.code).toBe(PolicyErrorCode.schema);
    expect(e.details.line).toBeGreaterThanOrEqual(2);
  });

  it('links: unknown template, missing slot, extra slot, duplicate id', () => {
    const templates = { t: 'permit(principal == ?principal, action, resource);' };
    const u = { type: 'Livescope::Identity', id: 'a' };
    expect(failure({ policies: '', templates, links: [{ templateId: 'x', newId: 'l', values: { '?principal': u } }] }).code).toBe(PolicyErrorCode.link);
    expect(failure({ policies: '', templates, links: [{ templateId: 't', newId: 'l', values: {} }] }).code).toBe(PolicyErrorCode.link);
    expect(failure({ policies: '', templates, links: [{ templateId: 't', newId: 'l', values: { '?principal': u, '?resource': u } }] }).code).toBe(PolicyErrorCode.link);
    expect(failure({ policies: 'permit(principal, action, resource);', templates, links: [{ templateId: 't', newId: 'policy0', values: { '?principal': u } }] }).code).toBe(PolicyErrorCode.parse);
  });

  it('errors keep instanceof and carry a stable code across the boundary', () => {
    const e = failure({ policies: 'nope' });
    expect(e).toBeInstanceOf(PolicyError);
    expect(e.name).toBe('PolicyError');
    expect(e.classification).toBe('poison');
  });
});
