/** Whether `name` matches a pattern where `*` stands for any run of characters (nothing else is special). */
export function globMatch(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const parts = pattern.split('*');
  if (!name.startsWith(parts[0]!) || !name.endsWith(parts[parts.length - 1]!)) return false;
  let at = parts[0]!.length;
  const end = name.length - parts[parts.length - 1]!.length;
  if (end < at) return false;
  for (const mid of parts.slice(1, -1)) {
    const i = name.indexOf(mid, at);
    if (i < 0 || i + mid.length > end) return false;
    at = i + mid.length;
  }
  return true;
}

export const matchesAny = (patterns: readonly string[], name: string): boolean => patterns.some((p) => globMatch(p, name));
