/** A span of policy text: `[start, end)` string indexes into the original text. */
export interface TextSpan {
  readonly start: number;
  readonly end: number;
}

export interface PolicyTextChunk extends TextSpan {
  /** The policy's own text, from after the previous `;` through its `;` (comments included). */
  readonly text: string;
  /** Integer literal tokens of this policy, relative to `text`. */
  readonly integers: readonly (TextSpan & { readonly digits: string })[];
  /** Whether the policy mentions `?principal` or `?resource` (a template). */
  readonly hasSlots: boolean;
}

const isIdentStart = (c: number): boolean => c === 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isIdentPart = (c: number): boolean => isIdentStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Splits a Cedar policy set into its policies with their exact source spans. A lexical pass is
 * enough: `;` ends a policy and appears nowhere else outside strings and comments. Run it on text
 * cedar-wasm has already accepted; it does not report syntax errors itself. Returns also each
 * policy's integer literals, so literals beyond 2^53 can be kept exact.
 */
export function splitPolicyText(text: string): PolicyTextChunk[] {
  const chunks: PolicyTextChunk[] = [];
  let start = 0;
  let integers: (TextSpan & { digits: string })[] = [];
  let hasSlots = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
    } else if (c === 34) {
      i++;
      while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      i++;
    } else if (isIdentStart(c)) {
      while (i < n && isIdentPart(text.charCodeAt(i))) i++;
    } else if (isDigit(c)) {
      const s = i;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      integers.push({ start: s - start, end: i - start, digits: text.slice(s, i) });
    } else if (c === 63) {
      // `?principal` / `?resource`
      hasSlots ||= isIdentStart(text.charCodeAt(i + 1));
      i++;
    } else if (c === 59) {
      i++;
      chunks.push({ start, end: i, text: text.slice(start, i), integers, hasSlots });
      start = i;
      integers = [];
      hasSlots = false;
    } else {
      i++;
    }
  }
  return chunks;
}
