import { LivescopeError, markErrorClass } from '@livescope/errors';

/**
 * The one configuration error of every livescope process: a variable is missing, malformed, or
 * contradicts another. Always `fatal` (a process cannot run on a bad configuration); the message
 * names each variable at fault and never carries a secret's value.
 */
export class ConfigError extends LivescopeError<'CONFIG'> {
  /** The environment variables at fault, in the order reported. */
  readonly variables: readonly string[];

  constructor(message: string, variables: readonly string[] = [], options: { cause?: unknown } = {}) {
    super('CONFIG', 'fatal', message, options);
    this.variables = variables;
  }
}
markErrorClass(ConfigError, 'ConfigError');
