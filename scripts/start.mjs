#!/usr/bin/env node
// `npm start`: the main job. Starts the infrastructure, builds, starts the scope worker and the
// control plane (HTTP API + the web console), livescope-enforcer in front of a demo service the
// fleet calls, and plays a simulated fleet with the seed scenarios, printing scope changes,
// revocations, drift alerts and the demo service's allowed / denied requests live. Ctrl-C stops the services (the
// infrastructure keeps running: `npm run infra:down`).
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
let keys = JSON.parse(readFileSync(keysPath, 'utf8'));
// Producer keys (added to key files of earlier versions): control events are applied only when
// signed by a key of the workers' keyring. The control plane may send what responders and
// approvers send; the simulator plays provisioning, session issuers and approvers, so it may send all.
if (!keys.producers) {
  const pair = () => {
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    return { privateKey: jwk.d, publicKey: jwk.x };
  };
  keys = { ...keys, producers: { 'control-plane-dev': pair(), 'simulator-dev': pair() } };
  writeFileSync(keysPath, JSON.stringify(keys, null, 2), { mode: 0o600 });
}
const keyring = {
  'control-plane-dev': { publicKey: keys.producers['control-plane-dev'].publicKey, eventTypes: ['order.issued', 'order.lifted', 'session.approval-granted', 'session.approval-revoked', 'policies.published'] },
  'simulator-dev': { publicKey: keys.producers['simulator-dev'].publicKey, eventTypes: ['*'] },
};
const env = {
  ...process.env,
  LIVESCOPE_SIGNING_KEY_ID: keys.signing.kid,
  LIVESCOPE_SIGNING_KEY: keys.signing.privateKey,
  LIVESCOPE_RELEASE_SIGNERS: JSON.stringify({ [keys.releaseSigner.name]: keys.releaseSigner.publicKey }),
  LIVESCOPE_PRODUCER_KEYS: JSON.stringify(keyring),
  LIVESCOPE_DEV_KEYS: keysPath,
};
/** Each service signs as itself. */
const producerEnv = (kid) => ({ LIVESCOPE_PRODUCER_KEY_ID: kid, LIVESCOPE_PRODUCER_KEY: keys.producers[kid].privateKey });

const children = [];
const startService = (name, args, { logToFile = true, extraEnv = {} } = {}) => {
  const out = logToFile ? openSync(join(logs, `${name}.log`), 'a') : 'inherit';
  const child = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', out, logToFile ? out : 'inherit'] });
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
  // A child still busy after a grace period (the simulator finishes its scenario step) must not outlive us.
  setTimeout(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    process.exit(code);
  }, 5000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r))))).then(() => process.exit(code));
};
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

step(`starting the scope worker (logs: ${join(logs, 'scope-worker.log')}; metrics: http://127.0.0.1:9464/metrics)`);
// The worker's V8 flags (a larger young generation: see docs/performance.md), as the image runs it.
const workerFlags = JSON.parse(readFileSync('services/scope-worker/node-flags.json', 'utf8'));
startService('scope-worker', [...workerFlags, 'services/scope-worker/dist/main.js']);

const apiHost = process.env.LIVESCOPE_API_HOST ?? '127.0.0.1';
const apiPort = process.env.LIVESCOPE_API_PORT ?? '8787';
const apiUrl = `http://${apiHost}:${apiPort}`;
step(`starting the control plane and the web console (logs: ${join(logs, 'control-plane.log')})`);
startService('control-plane', ['services/control-plane/dist/main.js'], { extraEnv: producerEnv('control-plane-dev') });

/** Polls the control plane until it answers, bounded: its start-up retries Kafka, the registry and PostgreSQL. */
const waitForApi = async (timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const r = await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
};

// A development token for the console, minted with the key file the control plane trusts (it adds
// its API key pair to the file on start, so mint only once it is up).
const mintToken = (role, sub) => {
  const r = spawnSync(process.execPath, ['packages/cli/bin/livescope.js', 'token', '--role', role, '--sub', sub, '--ttl', '8h'], { env, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

if (await waitForApi(120_000)) {
  const token = mintToken('responder', process.env.USER && /^[\x21-\x7e]{1,64}$/.test(process.env.USER) ? process.env.USER : 'responder');
  const bar = '─'.repeat(78);
  process.stdout.write(`\n${bar}\n  livescope console: ${apiUrl}/console/\n`);
  if (token) {
    process.stdout.write(`  sign in with this DEVELOPMENT-ONLY responder token (8 h; paste it on the login page):\n\n${token}\n\n`);
  }
  process.stdout.write(
    `  other roles: npx livescope token --role soc --sub analyst   (or approver, admin; LIVESCOPE_DEV_KEYS=${keysPath})\n  API: ${apiUrl}/openapi.json · CLI: npx livescope --help\n${bar}\n`,
  );
} else if (!stopping) {
  process.stderr.write(`\nthe control plane did not answer on ${apiUrl} within 120 s; see ${join(logs, 'control-plane.log')}\n`);
}

// An enforcement point in the main job: livescope-enforcer (the agent) in front of a small demo
// service that the simulated fleet calls; the console lists it under Enforcement points with its
// lag, and a narrowing (the incident scenario's read-only order) shows up as denied requests.
const agentPort = process.env.LIVESCOPE_DEMO_AGENT_PORT ?? '9181';
const demoRoutes = [
  ['GET', '/db/{ns}', 'db:read', 'db/{ns}'],
  ['POST', '/db/{ns}', 'db:write', 'db/{ns}'],
  ['GET', '/k8s/{ns}/deployments', 'k8s:read', 'k8s/{ns}/deployments'],
  ['POST', '/k8s/{ns}/deployments', 'k8s:deploy', 'k8s/{ns}/deployments'],
  ['GET', '/secret/{ns}/{name}', 'secrets:read', 'secret/{ns}/{name}'],
  ['GET', '/tickets/{ns}', 'tickets:read', 'tickets/{ns}'],
  ['POST', '/tickets/{ns}', 'tickets:write', 'tickets/{ns}'],
  ['POST', '/tools/{ns}/chain', 'tool:invoke', 'tools/{ns}/chain'],
].map(([method, path, action, resource]) => ({ methods: [method], path, action, resource }));
step(`starting livescope-enforcer in front of the demo service (logs: ${join(logs, 'enforcer-agent.log')}; http://127.0.0.1:${agentPort}/metrics)`);
startService('enforcer-agent', ['services/enforcer-agent/dist/main.js'], {
  extraEnv: {
    LIVESCOPE_ENFORCER_ID: 'demo-gateway',
    LIVESCOPE_ENFORCER_TRUSTED_KEYS: JSON.stringify({ [keys.signing.kid]: keys.signing.publicKey }),
    LIVESCOPE_AGENT_PORT: agentPort,
    // Development only: the demo callers name themselves in a header the agent trusts.
    LIVESCOPE_AGENT_IDENTITY_SOURCES: 'header',
    LIVESCOPE_AGENT_IDENTITY_HEADER: 'x-demo-identity',
    LIVESCOPE_AGENT_ROUTES: JSON.stringify(demoRoutes),
  },
});
startService('demo-service', ['scripts/demo-service.mjs'], { logToFile: false, extraEnv: { LIVESCOPE_DEMO_AGENT_URL: `http://127.0.0.1:${agentPort}`, LIVESCOPE_DEMO_FLEET: process.env.LIVESCOPE_DEMO_FLEET ?? '200' } });

step('playing a simulated fleet with the seed scenarios — live feed of what the pipeline decides:');
startService('simulator', ['services/simulator/dist/main.js', 'demo', '--policies', 'examples/policies', '--size', process.env.LIVESCOPE_DEMO_FLEET ?? '200'], { logToFile: false, extraEnv: producerEnv('simulator-dev') });
