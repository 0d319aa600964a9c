import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CedarSchema, compilePolicySet, entitiesFromJson, parseExactJson, requestFromJson, type CompiledPolicySet, type CompileOptions } from '@livescope/policy';

/** The shared copy of cedar-integration-tests data (read-only). */
export const CORPUS_ROOT = '/work/shared/testdata/cedar-corpus';

interface CorpusRequest {
  description: string;
  principal: unknown;
  action: unknown;
  resource: unknown;
  context: unknown;
  decision: 'allow' | 'deny';
  reason: string[];
  errors: string[];
}

interface CorpusTest {
  policies: string;
  entities: string;
  schema: string;
  shouldValidate: boolean;
  requests: CorpusRequest[];
}

export interface CorpusMismatch {
  readonly test: string;
  readonly request: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

export interface CorpusTally {
  tests: number;
  requests: number;
  agreed: number;
  policies: number;
  compiled: number;
  fallback: number;
  fallbackReasons: string[];
  mismatches: CorpusMismatch[];
}

export function emptyTally(): CorpusTally {
  return { tests: 0, requests: 0, agreed: 0, policies: 0, compiled: 0, fallback: 0, fallbackReasons: [], mismatches: [] };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

/** Reads a corpus file by its path relative to the corpus root. */
export type CorpusReader = (path: string) => string;

export function directoryReader(root: string): CorpusReader {
  return (path) => readFileSync(join(root, path), 'utf8');
}

// Fuzzer tests share schemas (4,659 distinct texts in 7,809 tests) and cedar-wasm takes milliseconds per parse.
const schemas = new Map<string, CedarSchema | undefined>();
function parseSchemaOnce(text: string): CedarSchema | undefined {
  if (schemas.has(text)) return schemas.get(text);
  let schema: CedarSchema | undefined;
  try {
    schema = CedarSchema.parse(text);
  } catch {
    schema = undefined;
  }
  schemas.set(text, schema);
  return schema;
}

/** Runs one corpus test file and adds to `tally`; `fallback` as in `compilePolicySet` (e.g. `all` to run everything on cedar-wasm). */
export function runCorpusTest(read: CorpusReader, testFile: string, tally: CorpusTally, fallback?: CompileOptions['fallback']): void {
  const test = parseExactJson(read(testFile)) as unknown as CorpusTest;
  const policyText = read(test.policies);
  const schema = parseSchemaOnce(read(test.schema));
  const compiled: CompiledPolicySet = compilePolicySet(fallback === undefined ? { policies: policyText } : { policies: policyText, fallback });
  const entities = entitiesFromJson(parseExactJson(read(test.entities)), schema ? { schema } : {});
  tally.tests++;
  tally.policies += compiled.policies.length;
  tally.fallback += compiled.fallbackPolicyIds.length;
  tally.compiled += compiled.policies.length - compiled.fallbackPolicyIds.length;
  for (const p of compiled.policies) if (!p.compiled) tally.fallbackReasons.push(`${testFile}:${p.id}: ${p.fallbackReason}`);
  for (const r of test.requests) {
    tally.requests++;
    const request = requestFromJson(r, schema ? { schema } : {});
    const got = compiled.isAuthorized(request, entities);
    if (got.decision === r.decision && sameSet(got.reason, r.reason) && sameSet(got.errors, r.errors)) {
      tally.agreed++;
    } else {
      tally.mismatches.push({
        test: testFile,
        request: r.description,
        expected: { decision: r.decision, reason: r.reason, errors: r.errors },
        actual: { decision: got.decision, reason: got.reason, errors: got.errors, messages: got.errorMessages },
      });
    }
  }
}

export function summarize(name: string, t: CorpusTally, ms?: number): string {
  return (
    `${name}: ${t.agreed}/${t.requests} requests agree with cedar-wasm (decision, reason, errors) over ${t.tests} tests; ` +
    `policies ${t.policies}: ${t.compiled} compiled, ${t.fallback} fallback${ms === undefined ? '' : `; ${(ms / 1000).toFixed(1)} s`}`
  );
}
