/** The `livescope` command line as a library: run it in process (tests, embedding) with your own I/O. */
export { ApiClient, ApiError } from './ApiClient.js';
export { ExitCode, UsageError } from './parse.js';
export { runCli, type CliIo } from './runCli.js';
export { readEvents, type SseEvent } from './sse.js';
