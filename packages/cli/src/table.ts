/** A plain-text table: left-aligned columns separated by two spaces, cells cut at `maxCell`. */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[], maxCell = 60): string {
  const cell = (v: string | number | null | undefined): string => {
    const s = v === null || v === undefined || v === '' ? '-' : String(v).replace(/\s+/g, ' ');
    return s.length > maxCell ? `${s.slice(0, maxCell - 1)}…` : s;
  };
  const body = rows.map((r) => headers.map((_, i) => cell(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...body.map(line)].join('\n') + '\n';
}

/** `2026-11-28T12:00:00.000Z` → `2026-11-28 12:00:00Z`; relative hint for near instants. */
export function formatInstant(iso: string | null | undefined, nowMs = Date.now()): string {
  if (!iso) return 'never';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const text = new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  const delta = ms - nowMs;
  const abs = Math.abs(delta);
  if (abs > 7 * 86_400_000) return text;
  return `${text} (${delta >= 0 ? 'in ' : ''}${formatMs(abs)}${delta < 0 ? ' ago' : ''})`;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}
