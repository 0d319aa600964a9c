import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Global setup of the integration and end-to-end tiers: make sure the real Kafka broker, schema
 * registry and PostgreSQL are up (starting them if needed) once per run. Starting is idempotent.
 */
export default function setup(): void {
  if (process.env.LIVESCOPE_SKIP_INFRA_START === '1') return;
  const script = fileURLToPath(new URL('../infra/start.sh', import.meta.url));
  execFileSync('bash', [script, '--quiet'], { stdio: 'inherit' });
}
