import { describe, expect, it } from 'vitest';
import { splitPolicyText } from './splitPolicyText.js';

describe('splitPolicyText', () => {
  it('splits on `;` outside strings and comments, keeping exact spans', () => {
    const text = `// a; b\npermit(principal, action, resource) when { "x;y" == "\\";" };\n@id("p;2") forbid(principal, action, resource);\n// trailing`;
    const chunks = splitPolicyText(text);
    expect(chunks).toHaveLength(2);
    expect(text.slice(chunks[0]!.start, chunks[0]!.end)).toBe(chunks[0]!.text);
    expect(chunks[0]!.text.endsWith('};')).toBe(true);
    expect(chunks[1]!.text.trim()).toBe('@id("p;2") forbid(principal, action, resource);');
  });

  it('finds integer literals (not digits inside identifiers or strings) and template slots', () => {
    const [c] = splitPolicyText('permit(principal == ?principal, action, resource) when { a1.b == 9223372036854775807 && "12" == "3" && -5 < 6 };');
    expect(c!.integers.map((t) => t.digits)).toEqual(['9223372036854775807', '5', '6']);
    expect(c!.hasSlots).toBe(true);
  });
});
