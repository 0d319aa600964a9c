#!/usr/bin/env node
// `npm start`: the main job. Starts the infrastructure, builds, starts the scope worker and plays
// a simulated fleet with the seed scenarios, printing scope changes, revocations and drift alerts
// live. Ctrl-C stops the services (the infrastructure keeps running: `npm run infra:down`).
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const home = process.env.LIVESCOPE_HOME ?? join(homedir(), '.cache', 'livescope');
const logs = join(home, 'logs');
mkdirSync(logs, { recursive: true });
const step = (s) => process.stdout.write(`\n▶ ${s}\n`);

const must = (title, cmd, args) => {
  step(title);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`${title} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
};

must('starting the infrastructure (first run downloads Kafka and Apicurio Registry from Maven Central)', 'bash', ['infra/start.sh']);
must('building', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);

// Development keys: the command-signing key and a release manager's key. Never use them in production.
const keysPath = join(home, 'dev-keys.json');
if (!existsSync(keysPath)) {
  const pair = () => {
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    return { privateKey: jwk.d, publicKey: jwk.x };
  };
  writeFileSync(keysPath, JSON.stringify({ signing: { kid: 'dev-1', ...pair() }, releaseSigner: { name: 'release-manager', ...pair() } }, null, 2), { mode: 0o600 });
}
const keys = JSON.parse(readFileSync(keysPath, 'utf8'));
const env = {
  ...process.env,
  LIVESCOPE_SIGNING_KEY_ID: keys.signing.kid,
  LIVESCOPE_SIGNING_KEY: keys.signing.privateKey,
  LIVESCOPE_RELEASE_SIGNERS: JSON.stringify({ [keys.releaseSigner.name]: keys.releaseSigner.publicKey }),
  LIVESCOPE_DEV_KEYS: keysPath,
};

const children = [];
const startService = (name, args, { logToFile = true } = {}) => {
  const out = logToFile ? openSync(join(logs, `${name}.log`), 'a') : 'inherit';
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', out, logToFile ? out : 'inherit'] });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`\n${name} exited (${code ?? signal}); see ${join(logs, `${name}.log`)}\n`);
      shutdown(1);
    }
  });
  return child;
};

let stopping = false;
const shutdown = (code = 0) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nstopping services (infrastructure keeps running; `npm run infra:down` stops it)\n');
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r))))).then(() => process.exit(code));
};
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

step(`starting the scope worker (logs: ${join(logs, 'scope-worker.log')}; metrics: http://127.0.0.1:9464/metrics)`);
startService('scope-worker', ['services/scope-worker/dist/main.js']);

step('playing a simulated fleet with the seed scenarios — live feed of what the pipeline decides:');
startService('simulator', ['services/simulator/dist/main.js', 'demo', '--policies', 'examples/policies', '--size', process.env.LIVESCOPE_DEMO_FLEET ?? '200'], { logToFile: false });
