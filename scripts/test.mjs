#!/usr/bin/env node
// The README's test command: static checks and unit tests, then integration and end-to-end
// tests against the real Kafka, schema registry and PostgreSQL (started here if they are not up),
// then the benchmarks in smoke mode so they cannot rot.
import { spawnSync } from 'node:child_process';

const run = (title, cmd, args, env = {}) => {
  process.stdout.write(`\n=== ${title}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    process.stderr.write(`\n${title} failed (exit ${r.status ?? r.signal}).\n`);
    process.exit(r.status ?? 1);
  }
};

const only = process.argv[2];
if (!only || only === 'static') run('static checks and unit tests', 'npx', ['turbo', 'run', 'typecheck', 'lint', 'test:unit', '--concurrency=3', '--output-logs=errors-only']);
if (!only || only !== 'static') {
  // The end-to-end tier also runs against the secured broker (TLS, SASL/SCRAM, ACLs): test/secured-broker.e2e.test.ts.
  const secure = !only || only === 'e2e' ? ['--secure'] : [];
  run('infrastructure', 'bash', ['infra/start.sh', '--quiet', ...secure]);
  const env = { LIVESCOPE_SKIP_INFRA_START: '1' };
  if (!only || only === 'int') run('integration tests', 'npx', ['turbo', 'run', 'test:int', '--concurrency=1', '--output-logs=new-only'], env);
  if (!only || only === 'e2e') run('end-to-end tests', 'npx', ['turbo', 'run', 'test:e2e', '--concurrency=1', '--output-logs=new-only'], env);
  if (!only || only === 'bench') run('benchmarks (smoke)', 'node', ['scripts/bench.mjs', '--smoke'], env);
}
process.stdout.write('\nall tests passed\n');
