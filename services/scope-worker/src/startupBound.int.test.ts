import { createServer, type AddressInfo, type Socket } from 'node:net';
import { permitAllPolicy } from '@livescope/scope-engine';
import { PipelineFixture } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.js';
import { createWorker } from './createWorker.js';

/**
 * A schema registry that accepts connections and never answers (seen right after a cold start)
 * hung a worker's start-up, and the test fixture waiting for it, until the test's own timeout.
 * Start-up is bounded: each registry request times out and is retried as an outage, and the whole
 * start-up fails after LIVESCOPE_STARTUP_TIMEOUT_MS (+ 30 s grace), saying what it waited for.
 */
let fx: PipelineFixture;
const held: Socket[] = [];
const silent = createServer((socket) => void held.push(socket));

beforeAll(async () => {
  fx = await new PipelineFixture(1).open();
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const s of held) s.destroy();
  silent.close();
  await fx?.close();
});

describe('worker start-up against a registry that never answers', () => {
  it('fails within its start-up timeout with the registry named, instead of hanging', async () => {
    const port = (silent.address() as AddressInfo).port;
    const env = fx.workerEnv({ LIVESCOPE_REGISTRY_URL: `http://127.0.0.1:${port}/apis/ccompat/v7`, LIVESCOPE_STARTUP_TIMEOUT_MS: '3000' });
    const built = await createWorker(loadWorkerConfig(env), fx.logger, () => permitAllPolicy);
    try {
      const failure = await built.worker.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      // Each registry request waits up to its timeout (30 s by default), longer than this start-up
      // timeout: the start-up deadline (timeout + 30 s grace) ends it, naming the step.
      expect(failure).toMatchObject({ name: 'DeadlineError', code: 'DEADLINE_EXCEEDED' });
      expect(String((failure as Error).message)).toMatch(/stuck at: registering schemas/);
      expect(held.length).toBeGreaterThan(0);
      expect(built.worker.state).toBe('failed');
    } finally {
      await built.worker.stop().catch(() => undefined);
      await built.store.close();
    }
  });
});
