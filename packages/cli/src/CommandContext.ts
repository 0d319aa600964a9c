import type { ApiClient } from './ApiClient.js';

/** What command groups registered beside `runCli` need from it. */
export interface CommandContext {
  readonly client: () => ApiClient;
  /** Prints the answer: as JSON under --json, else `human()`. */
  readonly print: (json: unknown, human: () => string) => void;
  readonly json: () => boolean;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly signal: AbortSignal;
  readonly setCode: (code: number) => void;
  /** The error a bounded wait throws when it runs out (exit code 4). */
  readonly timeout: (message: string) => Error;
}
