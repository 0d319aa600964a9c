import { fileVariable, type OptionSpec, type OptionsSpec } from './option.js';

/**
 * The documentation of an options spec as a Markdown table, so the docs are rendered from the one
 * place each option is written. Docs hold it between `<!-- options:NAME -->` and
 * `<!-- /options:NAME -->`; `replaceOptionsBlock` refreshes it and unit tests compare.
 */
export function optionsTable(spec: OptionsSpec): string {
  const rows = Object.values(spec).map((o) => `| ${variableCell(o)} | ${defaultCell(o)} | ${o.unit ?? ''} | ${o.doc} |`);
  return ['| variable | default | unit | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

function variableCell(o: OptionSpec): string {
  const name = `\`${o.variable}\``;
  return o.secret || o.fromFile ? `${name} or \`${fileVariable(o).slice(o.variable.length)}\`` : name;
}

function defaultCell(o: OptionSpec): string {
  if (o.defaultDoc !== undefined) return o.defaultDoc;
  const def = (o.schema)._zod.def as { type: string; defaultValue?: unknown };
  if (def.type !== 'default') return '—';
  const v = def.defaultValue;
  const text = Array.isArray(v) ? v.join(',') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  return text === '' ? '(empty)' : `\`${text}\``;
}

/** `doc` with the block named `name` replaced by `table`; throws when the markers are missing. */
export function replaceOptionsBlock(doc: string, name: string, table: string): string {
  const open = `<!-- options:${name} -->`;
  const close = `<!-- /options:${name} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (start < 0 || end < start) throw new Error(`no ${open} … ${close} block in the document`);
  return `${doc.slice(0, start + open.length)}\n${table}\n${doc.slice(end)}`;
}

/** The table currently between the markers of block `name`, or undefined. */
export function optionsBlock(doc: string, name: string): string | undefined {
  const open = `<!-- options:${name} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(`<!-- /options:${name} -->`);
  return start < 0 || end < start ? undefined : doc.slice(start + open.length, end).trim();
}

/** The options of `spec` that are not in `shared` (a service's own, for its doc table). */
export function ownOptions(spec: OptionsSpec, shared: OptionsSpec): OptionsSpec {
  return Object.fromEntries(Object.entries(spec).filter(([k]) => !(k in shared)));
}
