/**
 * The one configuration error of every livescope process: a variable is missing, malformed, or
 * contradicts another. Always `fatal` (a process cannot run on a bad configuration); the message
 * names each variable at fault and never carries a secret's value.
 */
export class ConfigError extends Error {
  static readonly marker = Symbol.for('livescope.ConfigError');
  readonly code = 'CONFIG' as const;
  readonly classification = 'fatal' as const;
  /** The environment variables at fault, in the order reported. */
  readonly variables: readonly string[];

  constructor(message: string, variables: readonly string[] = [], options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConfigError';
    this.variables = variables;
    Object.defineProperty(this, ConfigError.marker, { value: true });
  }

  /** `instanceof` that also holds across duplicate installs of this package. */
  static is(e: unknown): e is ConfigError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[ConfigError.marker] === true;
  }
}
