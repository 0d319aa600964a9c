import { z } from 'zod';
import { LivescopeEvent } from './events.js';
import { subjectSpecs } from './subjects.js';
import { topicSpecs } from './topics.js';

/**
 * The generated reference part of docs/events.md: every topic and every event/command with its
 * fields, produced from the zod contracts so the documentation cannot drift from the schemas.
 * A unit test fails when docs/events.md does not contain exactly this text between its markers.
 */
export const EVENTS_DOC_BEGIN = '<!-- BEGIN GENERATED: npm run docs:events -->';
export const EVENTS_DOC_END = '<!-- END GENERATED -->';

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; required?: string[]; items?: JsonSchema; anyOf?: JsonSchema[]; enum?: unknown[]; const?: unknown; format?: string; description?: string; default?: unknown; additionalProperties?: JsonSchema | boolean; maximum?: number; minimum?: number; pattern?: string };

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${typeOf(s.items ?? {})}[]`;
  if (s.type === 'object' && s.properties) return 'object';
  if (s.type === 'object') return 'map';
  if (s.format === 'date-time') return 'timestamp';
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
  return t;
}

function rows(schema: JsonSchema, prefix = ''): string[] {
  const out: string[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    const opt = required.has(name) ? '' : ' (optional)';
    const dflt = prop.default !== undefined ? ` default \`${JSON.stringify(prop.default)}\`` : '';
    out.push(`| \`${path}\` | ${typeOf(prop)}${opt}${dflt} |`);
    const inner = prop.type === 'array' ? prop.items : prop;
    if (inner?.properties) out.push(...rows(inner, `${path}${prop.type === 'array' ? '[]' : ''}.`));
    if (inner?.anyOf) for (const alt of inner.anyOf) if (alt.properties) out.push(...rows(alt, `${path}.`));
  }
  return out;
}

export function renderEventsReference(): string {
  const lines: string[] = [EVENTS_DOC_BEGIN, '', '## Topics', '', '| topic | keyed by | cleanup | retention | what |', '|---|---|---|---|---|'];
  for (const t of topicSpecs) lines.push(`| \`${t.name}\` | ${t.keying} | ${t.cleanupPolicy} | ${t.retentionMs < 0 ? 'forever' : `${t.retentionMs / 86_400_000} d`} | ${t.description} |`);
  lines.push('', '## Registry subjects', '', '| subject | topic | schema |', '|---|---|---|');
  for (const s of subjectSpecs) lines.push(`| \`${s.subject}\` | \`${s.topic}\` | ${s.title} |`);
  lines.push('', '## Input events (`livescope.events.v1`)', '');
  for (const option of LivescopeEvent.options) {
    const type = option.shape.type.value;
    const schema = z.toJSONSchema(option.shape.data, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as JsonSchema;
    const broadcast = !('subject' in option.shape);
    lines.push(`### \`${type}\`${broadcast ? ' (broadcast)' : ''}`, '', '| field of `data` | type |', '|---|---|', ...rows(schema), '');
  }
  lines.push('## Outputs', '');
  for (const s of subjectSpecs.slice(1)) {
    const schema = z.toJSONSchema(s.schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as JsonSchema;
    lines.push(`### ${s.title} (\`${s.topic}\`)`, '', '| field | type |', '|---|---|', ...rows(schema), '');
  }
  lines.push(EVENTS_DOC_END);
  return lines.join('\n');
}
