import type { z } from 'zod';
import { ContractError } from './ContractError.js';

/** Formats zod issues as `path: message` lines, paths dotted (`data.permissions.0.action`). */
export function describeIssues(error: z.ZodError): { message: string; paths: string[] } {
  const paths: string[] = [];
  const lines = error.issues.slice(0, 10).map((issue) => {
    const path = issue.path.map(String).join('.') || '(root)';
    paths.push(path);
    return `${path}: ${issue.message}`;
  });
  const more = error.issues.length > 10 ? ` (and ${error.issues.length - 10} more)` : '';
  return { message: lines.join('; ') + more, paths };
}

/** Parses `value` with `schema`, throwing a `schema-invalid` ContractError that names every failing path. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { message, paths } = describeIssues(result.error);
  throw new ContractError('schema-invalid', `${what} fails its schema: ${message}`, { paths });
}
