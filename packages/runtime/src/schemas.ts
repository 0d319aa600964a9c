import { accessSync, constants } from 'node:fs';
import { z } from 'zod';

/**
 * The building blocks of option schemas. Each parses the text of one environment variable
 * (`undefined` when unset) into a value.
 */

/** Comma-separated list; blanks and empty items dropped. */
export const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

/** An integer in [min, max], written in decimal. */
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `true`/`false` (also `1`/`0`). */
export const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** A JSON document validated by `schema`; the message says where it is wrong. */
export const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((s, ctx): z.output<T> => {
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return z.NEVER;
    }
    const r = schema.safeParse(value);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: `${i.path.join('.') || '(root)'}: ${i.message}` });
      return z.NEVER;
    }
    return r.data;
  });

/** A file this process can read (checked at start, so a wrong path fails there and not at first use). */
export const readableFile = z
  .string()
  .min(1)
  .refine(
    (p) => {
      try {
        accessSync(p, constants.R_OK);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'no readable file at this path' },
  );

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** A PostgreSQL schema name livescope may create (lower case, no quoting needed). */
export const pgSchemaName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL name (a-z, 0-9, _; at most 63)');

/** A topic prefix: the characters Kafka allows in topic names. */
export const topicPrefix = z.string().regex(/^[A-Za-z0-9._-]*$/, "may only hold letters, digits, '.', '_' and '-'");
