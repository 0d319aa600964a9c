#!/usr/bin/env node
// `npm run bench [name...] [--smoke]`: runs each benchmark in bench/<name>/index.ts in its own
// process (so one cannot warm up another), against the infrastructure the infra scripts start.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const names = args.filter((a) => !a.startsWith('--'));
const all = readdirSync('bench', { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'lib' && d.name !== 'node_modules' && existsSync(`bench/${d.name}/index.ts`))
  .map((d) => d.name)
  .sort();
const chosen = names.length ? names : all;
for (const n of chosen) {
  if (!all.includes(n)) {
    process.stderr.write(`unknown benchmark "${n}"; available: ${all.join(', ')}\n`);
    process.exit(2);
  }
}
const needsInfra = chosen.some((n) => n !== 'policy' && n !== 'enforcer');
if (needsInfra && process.env.LIVESCOPE_SKIP_INFRA_START !== '1') {
  const r = spawnSync('bash', ['infra/start.sh', '--quiet'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// A benchmark with sizes of its own runs once per size, unless a flag already picks one: the
// fan-out runs at 10,000 and at 100,000 identities (issue 15's two targets); --smoke runs it small.
const variants = { fanout: flags.some((f) => f === '--smoke' || f.startsWith('--matching=')) ? [[]] : [[], ['--matching=100000']] };
let failed = 0;
for (const n of chosen) {
  for (const extra of variants[n] ?? [[]]) {
    const argv = [...flags, ...extra];
    process.stderr.write(`\n>>> benchmark ${n} ${argv.join(' ')}\n`);
    const r = spawnSync('npx', ['tsx', '--conditions=livescope-source', `bench/${n}/index.ts`, ...argv], { stdio: 'inherit', env: { ...process.env, LIVESCOPE_BENCH_COMMAND: `npm run bench -- ${[n, ...argv].join(' ')}` } });
    if (r.status !== 0) {
      failed++;
      process.stderr.write(`benchmark ${n} ${argv.join(' ')} failed (exit ${r.status ?? r.signal})\n`);
    }
  }
}
process.exit(failed ? 1 : 0);
