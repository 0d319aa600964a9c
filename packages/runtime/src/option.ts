import type { z } from 'zod';

/**
 * One configuration option, written once: the variable that sets it, the zod schema that parses
 * it (its default included), and its documentation. A service's configuration is a record of
 * these; its TypeScript type is derived (`ConfigOf`), its documentation table is rendered from it
 * (`optionsTable`), and `loadConfig` parses the environment with it.
 */
export interface OptionSpec<S extends z.ZodType = z.ZodType> {
  /** The environment variable, `LIVESCOPE_…` (or one of OpenTelemetry's standard `OTEL_…`). */
  readonly variable: string;
  /** Parses the variable's text (undefined when unset) into the option's value. */
  readonly schema: S;
  /** What the option does, one sentence, for the docs. Units go in `unit`. */
  readonly doc: string;
  /** Unit of a number (`ms`, `s`, `bytes`, …), or what a text is (`path`, `URL`, `JSON`). */
  readonly unit?: string;
  /** The default as the docs show it, when the schema's default is computed at start (`<hostname>-<pid>`). */
  readonly defaultDoc?: string;
  /**
   * A secret: also read from the file named by `<variable>_FILE`, and a non-enumerable field of the
   * configuration object, so it never appears in `JSON.stringify`, pino lines or `util.inspect`.
   */
  readonly secret?: boolean;
  /** Not a secret, but may be long or kept in a file: also read from `<variable>_FILE`. */
  readonly fromFile?: boolean;
  /**
   * A check against the other options, after all were parsed: returns what is wrong (the message
   * is prefixed with this option's variable), or undefined.
   */
  readonly check?: (value: z.output<S>, config: Readonly<Record<string, unknown>>) => string | undefined;
}

export type OptionsSpec = Readonly<Record<string, OptionSpec<z.ZodType>>>;

/** The configuration object an options spec yields: one field per option, typed by its schema. */
export type ConfigOf<T extends OptionsSpec> = { readonly [K in keyof T]: T[K] extends OptionSpec<infer S> ? z.output<S> : never };

/** Declares one option (see `OptionSpec`). */
export function option<S extends z.ZodType>(variable: string, schema: S, doc: Omit<OptionSpec<S>, 'variable' | 'schema'>): OptionSpec<S> {
  // OTEL_…: the OpenTelemetry SDK's standard variables, so one environment configures every instrumented process alike.
  if (!/^(LIVESCOPE|OTEL)_[A-Z0-9_]+$/.test(variable)) throw new Error(`option variable ${variable} must be LIVESCOPE_ (or a standard OTEL_) and upper case`);
  // A file-readable option's `_FILE` twin is derived from its name; `X_FILE_FILE` would only confuse.
  if ((doc.secret || doc.fromFile) && variable.endsWith('_FILE')) throw new Error(`file-readable option ${variable} must not end in _FILE`);
  return { variable, schema, ...doc };
}

/** The variable holding a file to read a secret (or a `fromFile` option) from. */
export const fileVariable = (o: Pick<OptionSpec, 'variable'>): string => `${o.variable}_FILE`;
