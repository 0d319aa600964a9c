import { Harness } from '@livescope/control-plane/testing';
import { testEnv } from '@livescope/testkit';
import { runCli } from '../../src/runCli.js';

/** The control plane's test pipeline (`@livescope/control-plane/testing`), driven through the CLI. */
export class CliHarness extends Harness {
  /** Runs the `livescope` CLI in process against this control plane; `out` receives stdout as it is written. */
  async cli(args: readonly string[], token: string | undefined, signal?: AbortSignal, out: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
    const err: string[] = [];
    const code = await runCli(args, {
      stdout: (t) => void out.push(t),
      stderr: (t) => void err.push(t),
      env: {
        LIVESCOPE_API_URL: this.cp.url,
        ...(token ? { LIVESCOPE_TOKEN: token } : {}),
        LIVESCOPE_PG_URL: testEnv.pgUrl,
        LIVESCOPE_PG_SCHEMA: this.fx.schema,
        LIVESCOPE_KAFKA_BROKERS: testEnv.brokers.join(','),
        LIVESCOPE_REGISTRY_URL: testEnv.registryUrl,
        LIVESCOPE_TOPIC_PREFIX: this.fx.prefix,
        LIVESCOPE_TRUSTED_KEYS: JSON.stringify({ [this.fx.keys.kid]: this.fx.keys.publicKey }),
      },
      ...(signal ? { signal } : {}),
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  }
}
