import { readFileSync } from 'node:fs';
import { ConfigError } from './ConfigError.js';
import { fileVariable, type ConfigOf, type OptionSpec, type OptionsSpec } from './option.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses the environment with an options spec, once, into a typed configuration object.
 *
 * - A secret (or `fromFile`) option may instead name a file in `<VARIABLE>_FILE` (Docker and
 *   Kubernetes secrets); one trailing newline is dropped. Setting both is an error.
 * - Every problem is collected, then thrown as one `ConfigError` that names each variable.
 * - Secret fields are non-enumerable: present for the code that reads them, absent from
 *   `JSON.stringify`, pino and `util.inspect`. Spread (`{...config}`) drops them on purpose.
 */
export function loadConfig<T extends OptionsSpec>(spec: T, env: Env): ConfigOf<T> {
  const problems: Array<{ variable: string; message: string }> = [];
  const values: Record<string, unknown> = {};

  for (const [field, opt] of Object.entries(spec)) {
    const raw = readRaw(opt, env, problems);
    if (raw === failed) continue;
    const parsed = opt.schema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        problems.push({ variable: opt.variable, message: `${where}${opt.secret ? secretSafe(issue.message) : issue.message}` });
      }
      continue;
    }
    values[field] = parsed.data;
  }

  if (problems.length === 0) {
    for (const [field, opt] of Object.entries(spec)) {
      const wrong = opt.check?.(values[field], values);
      if (wrong !== undefined) problems.push({ variable: opt.variable, message: wrong });
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.map((p) => `${p.variable}: ${p.message}`).join('\n  ')}`, [...new Set(problems.map((p) => p.variable))]);
  }

  const config: Record<string, unknown> = {};
  for (const [field, opt] of Object.entries(spec)) {
    Object.defineProperty(config, field, { value: values[field], enumerable: opt.secret !== true, writable: false, configurable: false });
  }
  return config as ConfigOf<T>;
}

const failed = Symbol('failed');

function readRaw(opt: OptionSpec, env: Env, problems: Array<{ variable: string; message: string }>): string | undefined | typeof failed {
  const direct = env[opt.variable];
  if (!opt.secret && !opt.fromFile) return direct;
  const fileVar = fileVariable(opt);
  const path = env[fileVar];
  if (path === undefined || path === '') return direct;
  if (direct !== undefined) {
    problems.push({ variable: opt.variable, message: `both ${opt.variable} and ${fileVar} are set; set one of them` });
    return failed;
  }
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    problems.push({ variable: fileVar, message: `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
    return failed;
  }
}

/** zod messages may quote the input ("Invalid option: expected one of … received 'hunter2'"): not for secrets. */
function secretSafe(message: string): string {
  return message.replace(/received .*/i, 'received a value that is not shown (secret)');
}

/**
 * A service's config object from a parsed one: `omit` fields dropped (those it regroups), `extra`
 * added, and every other field copied with its property descriptor, so secrets stay non-enumerable
 * (a spread would drop them).
 */
export function reshapeConfig<C extends object, K extends keyof C, X extends object>(config: C, omit: readonly K[], extra: X): Omit<C, K> & X {
  const out: Record<string, unknown> = {};
  const dropped = new Set<PropertyKey>(omit);
  for (const key of Object.getOwnPropertyNames(config)) {
    if (dropped.has(key)) continue;
    Object.defineProperty(out, key, Object.getOwnPropertyDescriptor(config, key)!);
  }
  return Object.assign(out, extra) as Omit<C, K> & X;
}
