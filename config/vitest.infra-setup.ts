import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/**
 * Global setup of the integration and end-to-end tiers: make sure the real Kafka broker, schema
 * registry and PostgreSQL are up (starting them if needed) once per run. Starting is idempotent.
 * The end-to-end tier also needs the secured broker (infra/start.sh --secure) for
 * test/secured-broker.e2e.test.ts.
 */
export default function setup(project: TestProject): void {
  if (process.env.LIVESCOPE_SKIP_INFRA_START === '1') return;
  const script = fileURLToPath(new URL('../infra/start.sh', import.meta.url));
  const e2e = project.config.include.some((pattern) => pattern.includes('.e2e.'));
  execFileSync('bash', [script, '--quiet', ...(e2e ? ['--secure'] : [])], { stdio: 'inherit' });
}
