import { wasm, type DetailedError } from './cedarWasm.js';
import { EstConverter, UnsupportedConstruct } from './estToIr.js';
import type { PolicyIr } from './Expr.js';
import { byteOffsetToIndex, locateIndex } from './locateOffset.js';
import { PolicyError, PolicyErrorCode, type PolicyProblem } from './PolicyError.js';
import { splitPolicyText } from './splitPolicyText.js';

/** Policy text with an id of its own: one policy, or several (then ids are `<id>#0`, `<id>#1`…). */
export interface PolicySource {
  readonly id: string;
  readonly text: string;
}

/** What the parser learnt about one policy or template. */
export interface ParsedPolicy {
  readonly id: string;
  readonly kind: 'static' | 'template';
  /** This policy's own text (what cedar-wasm gets when it runs the policy). */
  readonly text: string;
  /** The input the text came from: `policies`, an entry id, or `templates:<id>`. */
  readonly source: string;
  /** 1-based line of the policy's first character in its source. */
  readonly line: number;
  /** The whole source text and the index of `text` in it, to locate errors reported inside `text`. */
  readonly sourceText: string;
  readonly offset: number;
  /** Compiler form, or undefined when the policy must run on cedar-wasm (see `unsupported`). */
  readonly ir: PolicyIr | undefined;
  readonly unsupported?: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** cedar-wasm's JSON form (integer literals beyond 2^53 are rounded in it; `ir` is exact). */
  readonly est: unknown;
}

const SAFE = 9007199254740991n;
const PLACEHOLDER_BASE = 2 ** 52;

/** A cedar-wasm error as a problem located in `text`, the exact text cedar-wasm was given (offsets are UTF-8 bytes). */
export function problemFromWasm(e: DetailedError, text: string, base: { source: string; policyId?: string }): PolicyProblem {
  const loc = e.sourceLocations?.[0];
  const pos = loc === undefined ? undefined : locateIndex(text, byteOffsetToIndex(text, loc.start));
  return {
    message: e.message,
    source: base.source,
    ...(base.policyId ? { policyId: base.policyId } : {}),
    ...(pos ? { line: pos.line, column: pos.column } : {}),
    ...(e.help ? { help: e.help } : {}),
  };
}

function parseError(problems: readonly PolicyProblem[]): PolicyError {
  const first = problems[0] as PolicyProblem;
  const where = first.line === undefined ? '' : ` (${first.source ?? ''}:${first.line}:${first.column})`;
  return new PolicyError(PolicyErrorCode.parse, `${first.message}${where}${first.help ? ` — ${first.help}` : ''}`, { ...first, problems });
}

/**
 * Cedar's JSON form of one policy with exact integers: literals beyond 2^53 are swapped for unique
 * placeholders before cedar-wasm sees the text, then swapped back in the tree.
 */
function estWithExactIntegers(
  text: string,
  integers: readonly { start: number; end: number; digits: string }[],
  kind: 'static' | 'template',
): { est: unknown; ir: PolicyIr | undefined; unsupported?: string; errors?: DetailedError[] } {
  const big = integers.filter((t) => t.digits.length >= 16 && BigInt(t.digits) > SAFE);
  const exact = new Map<number, bigint>();
  let substituted = text;
  if (big.length > 0) {
    const taken = new Set(integers.map((t) => t.digits));
    let next = PLACEHOLDER_BASE;
    let out = '';
    let at = 0;
    for (const t of big) {
      while (taken.has(String(next))) next++;
      exact.set(next, BigInt(t.digits));
      out += text.slice(at, t.start) + String(next);
      at = t.end;
      next++;
    }
    substituted = out + text.slice(at);
  }
  const answer = kind === 'static' ? wasm.policyToJson(substituted) : wasm.templateToJson(substituted);
  if (answer.type === 'failure') return { est: undefined, ir: undefined, errors: answer.errors };
  const converter = new EstConverter(exact);
  try {
    const ir = converter.policy(answer.json);
    if (converter.usedPlaceholders.size !== exact.size) return { est: answer.json, ir: undefined, unsupported: 'an integer literal beyond 2^53 could not be traced exactly' };
    return { est: answer.json, ir };
  } catch (e) {
    if (e instanceof UnsupportedConstruct) return { est: answer.json, ir: undefined, unsupported: e.message };
    throw e;
  }
}

/**
 * Parses a policy set given as one text (ids `policy0`, `policy1`… in order, as Cedar assigns) or as
 * `{ id, text }` sources. Throws `POLICY_PARSE` with line and column on the first syntax error.
 */
export function parseStaticPolicies(input: string | readonly PolicySource[]): ParsedPolicy[] {
  const sources: { source: string; text: string; ids: (n: number, i: number) => string }[] =
    typeof input === 'string'
      ? [{ source: 'policies', text: input, ids: (_n, i) => `policy${i}` }]
      : input.map((s) => ({ source: s.id, text: s.text, ids: (n, i) => (n === 1 ? s.id : `${s.id}#${i}`) }));
  const out: ParsedPolicy[] = [];
  for (const src of sources) {
    const check = wasm.checkParsePolicySet({ staticPolicies: src.text });
    if (check.type === 'failure') {
      const problems = check.errors.map((e) => problemFromWasm(e, src.text, { source: src.source }));
      const first = problems[0];
      if (first && /includes a template/.test(first.message)) {
        throw new PolicyError(PolicyErrorCode.parse, `${src.source}: templates (policies with ?principal or ?resource) go in \`templates\`, not in \`policies\``, {
          source: src.source,
          problems,
        });
      }
      throw parseError(problems);
    }
    const chunks = splitPolicyText(src.text);
    const parts = wasm.policySetTextToParts(src.text);
    if (parts.type === 'success' && parts.policies.length !== chunks.length) {
      throw new PolicyError(PolicyErrorCode.parse, `${src.source}: could not split the policy set into its ${parts.policies.length} policies`, { source: src.source });
    }
    chunks.forEach((chunk, i) => {
      const id = src.ids(chunks.length, i);
      const r = estWithExactIntegers(chunk.text, chunk.integers, 'static');
      if (r.errors) {
        const problems = r.errors.map((e) => {
          const loc = e.sourceLocations?.[0];
          const pos = loc === undefined ? undefined : locateIndex(src.text, chunk.start + byteOffsetToIndex(chunk.text, loc.start));
          return { message: e.message, source: src.source, policyId: id, ...(pos ? { line: pos.line, column: pos.column } : {}) };
        });
        throw parseError(problems);
      }
      const leading = /^\s*/.exec(chunk.text)?.[0].length ?? 0;
      out.push({
        id,
        kind: 'static',
        text: chunk.text,
        source: src.source,
        line: locateIndex(src.text, chunk.start + leading).line,
        sourceText: src.text,
        offset: chunk.start,
        ir: r.ir,
        ...(r.unsupported === undefined ? {} : { unsupported: r.unsupported }),
        annotations: r.ir?.annotations ?? annotationsOf(r.est),
        est: r.est,
      });
    });
  }
  return out;
}

function annotationsOf(est: unknown): Record<string, string> {
  const a = (est as { annotations?: Record<string, string> } | undefined)?.annotations;
  return a ? { ...a } : {};
}

/** Parses templates, one per entry. Throws `POLICY_PARSE` with line and column. */
export function parseTemplates(templates: readonly PolicySource[]): ParsedPolicy[] {
  return templates.map(({ id, text }) => {
    const source = `templates:${id}`;
    const chunks = splitPolicyText(text);
    if (chunks.length !== 1) {
      const check = wasm.templateToJson(text);
      if (check.type === 'failure') throw parseError(check.errors.map((e) => problemFromWasm(e, text, { source, policyId: id })));
      throw new PolicyError(PolicyErrorCode.parse, `template \`${id}\` must hold exactly one policy, found ${chunks.length}`, { source, policyId: id });
    }
    const chunk = chunks[0] as (typeof chunks)[number];
    const r = estWithExactIntegers(chunk.text, chunk.integers, 'template');
    if (r.errors) throw parseError(r.errors.map((e) => problemFromWasm(e, text, { source, policyId: id })));
    return {
      id,
      kind: 'template',
      text: chunk.text,
      source,
      line: 1,
      sourceText: text,
      offset: chunk.start,
      ir: r.ir,
      ...(r.unsupported === undefined ? {} : { unsupported: r.unsupported }),
      annotations: r.ir?.annotations ?? annotationsOf(r.est),
      est: r.est,
    };
  });
}

/** Problems of a duplicate id across inputs. */
export function assertUniqueIds(policies: readonly ParsedPolicy[]): void {
  const seen = new Set<string>();
  for (const p of policies) {
    if (seen.has(p.id)) throw new PolicyError(PolicyErrorCode.parse, `duplicate policy id \`${p.id}\``, { policyId: p.id, source: p.source });
    seen.add(p.id);
  }
}
