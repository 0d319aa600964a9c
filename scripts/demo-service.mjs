#!/usr/bin/env node
// `npm start`'s enforced demo service: a small inventory API that asks livescope-enforcer (the
// agent, JSON check API) about every request, and callers that play the simulator's fleet
// (the same seed and size as `livescope-sim demo`) calling it with what their roles allow. A
// narrowing (the incident scenario's read-only order on payments workloads) shows up as denials,
// summarised every 10 s. Development only: the caller's identity is a header the agent trusts.
import { createServer } from 'node:http';
import { fleetMembers } from '@livescope/simulator';

const agentUrl = process.env.LIVESCOPE_DEMO_AGENT_URL ?? 'http://127.0.0.1:9181';
const port = Number(process.env.LIVESCOPE_DEMO_SERVICE_PORT ?? 8790);
const fleet = fleetMembers(Number(process.env.LIVESCOPE_DEMO_SEED ?? 42), Number(process.env.LIVESCOPE_DEMO_FLEET ?? 200));
const ratePerS = Number(process.env.LIVESCOPE_DEMO_CALLS_PER_S ?? 20);
const identityHeader = 'x-demo-identity';

/**
 * What the callers do: the permissions of their roles that the example policies leave in runtime
 * scope by default (deploys wait for release windows, secrets for approvals: calling those would
 * only raise out-of-scope alerts). Denials then come from narrowings: orders, risk, revocations.
 */
const REQUESTS = {
  'db:read': (ns) => ['GET', `/db/${ns}`],
  'db:write': (ns) => ['POST', `/db/${ns}`],
  'k8s:read': (ns) => ['GET', `/k8s/${ns}/deployments`],
  'tickets:read': (ns) => ['GET', `/tickets/${ns}`],
  'tickets:write': (ns) => ['POST', `/tickets/${ns}`],
};

let allowed = 0;
let denied = 0;
let lastDenial;
let agentDown = 0;

const server = createServer((req, res) => {
  req.resume();
  // The service asks the agent, forwarding the request line and the caller's identity header.
  fetch(`${agentUrl}/v1/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method: req.method, host: 'inventory.demo', path: req.url, headers: { [identityHeader]: String(req.headers[identityHeader] ?? '') } }),
    signal: AbortSignal.timeout(2000),
  })
    .then((r) => r.json())
    .then((d) => {
      if (d.allowed) {
        allowed++;
        res.end(JSON.stringify({ ok: true, served: req.url }));
      } else {
        denied++;
        lastDenial = `${d.identityId ?? req.headers[identityHeader]} ${req.method} ${req.url} → ${d.code}: ${d.reason}`;
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'forbidden', code: d.code, reason: d.reason }));
      }
    })
    .catch(() => {
      // Fail closed: no answer from the agent is a denial.
      agentDown++;
      res.writeHead(503);
      res.end();
    });
});
server.listen(port, '127.0.0.1');

let i = 0;
let callers;
// The agent needs a moment to read the scope: the callers start once it is ready.
while (!(await fetch(`${agentUrl}/readyz`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 500));
callers = setInterval(() => {
  const m = fleet[(i++ * 7919) % fleet.length];
  const perms = m.roles.flatMap((r) => r.permissions).filter((p) => REQUESTS[p.action]);
  if (perms.length === 0) return;
  const make = REQUESTS[perms[i % perms.length].action];
  const [method, path] = make(m.namespace);
  fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { [identityHeader]: m.id }, signal: AbortSignal.timeout(3000) })
    .then((r) => r.arrayBuffer())
    .catch(() => undefined);
}, Math.max(5, Math.round(1000 / ratePerS)));

const summary = setInterval(() => {
  const line = `enforced demo service (livescope-enforcer in front): ${allowed} allowed, ${denied} denied${agentDown ? `, ${agentDown} failed closed (agent unreachable)` : ''} in 10 s${denied && lastDenial ? `; latest denial: ${lastDenial}` : ''}`;
  process.stdout.write(`${line}\n`);
  allowed = denied = agentDown = 0;
  lastDenial = undefined;
}, 10_000);

const stop = () => {
  clearInterval(callers);
  clearInterval(summary);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
