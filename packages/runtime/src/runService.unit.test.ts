import { describe, expect, it } from 'vitest';
import { ConfigError } from './ConfigError.js';
import { ExitCode, runService, stoppable } from './runService.js';

describe('runService', () => {
  it('exits 2 for a bad configuration and 1 for a start that fails', async () => {
    expect(await runService({ name: 'svc', start: () => Promise.reject(new ConfigError('LIVESCOPE_X: bad', ['LIVESCOPE_X'])) })).toBe(ExitCode.config);
    expect(await runService({ name: 'svc', start: () => Promise.reject(new Error('no broker')) })).toBe(ExitCode.failed);
  });

  it('stops on SIGTERM and exits 0; a service that fails exits 1', async () => {
    let stopped = 0;
    const running = runService({ name: 'svc', start: () => Promise.resolve(stoppable(() => Promise.resolve(void stopped++))) });
    await new Promise((r) => setImmediate(r));
    process.emit('SIGTERM');
    expect(await running).toBe(ExitCode.stopped);
    expect(stopped).toBe(1);
    const failing = runService({ name: 'svc', start: () => Promise.resolve({ done: Promise.reject(new Error('fatal')), stop: () => Promise.resolve() }) });
    expect(await failing).toBe(ExitCode.failed);
  });

  it('ends the process when a stop overruns its grace period', async () => {
    let forced = false;
    const running = runService({ name: 'svc', graceMs: 20, onGraceExceeded: () => (forced = true), start: () => Promise.resolve({ done: new Promise<void>((r) => setTimeout(r, 200)), stop: () => new Promise<void>(() => undefined) }) });
    await new Promise((r) => setImmediate(r));
    process.emit('SIGINT');
    await running;
    expect(forced).toBe(true);
  });
});
