/**
 * The policy impact (`livescope policy impact`, `POST /v1/policies/impact`): how long the control
 * plane takes to compute, from the workers' state in PostgreSQL, what a candidate policy set would
 * do to every identity — target: 100,000 identities within 10 s.
 *
 * Setup: a seeded fleet (the simulator's roles; a third with a live session, a fifth with a
 * person's approval) is provisioned through the scope engine with the example policies, and its
 * states are written to identity_state across the partitions as the workers store them. A real
 * control plane (HTTP, PostgreSQL, Kafka) answers the impact requests. Measured, each as the median
 * of the rounds, wall time of the HTTP request:
 *   - baseline: read and decode every state (the floor: what any impact must at least do);
 *   - a comment-only edit (every decision equal: the cheap pass only);
 *   - a narrowing edit of part of the fleet (forbid writes of agents);
 *   - the worst case: the base permit removed (every identity loses everything, both scopes computed in full).
 *
 *   npm run bench -- policy-impact [--smoke] [--size=100000]
 */
import { generateKeyPairSync } from 'node:crypto';
import { LivescopeEvent, type LivescopeEventInput } from '@livescope/contracts';
import { ControlPlane, loadControlPlaneConfig } from '@livescope/control-plane';
import { compileScopePolicy, decodeIdentity, emptyOutput, encodeGlobals, encodeIdentity, encodePolicies, PermInterner, ScopeEngine, seededRandom, type IdentityState } from '@livescope/scope-engine';
import { fleetMembers, policiesEvent, provisioningEvents, readPolicyDir } from '@livescope/simulator';
import { generateSigningKeyPair } from '@livescope/transport';
import { SignJWT } from 'jose';
import { ensureKafkaVersionEnv, openPipeline, repoRoot } from '../lib/pipeline.js';
import { parseBenchArgs, progress, publish, type Row } from '../lib/report.js';

const args = parseBenchArgs();
const SEED = 20261207;
const sizeArg = args.argv.find((a) => a.startsWith('--size='))?.slice('--size='.length);
const SIZE = sizeArg ? Number(sizeArg) : args.smoke ? 5_000 : 100_000;
const ROUNDS = args.smoke ? 1 : 3;
const PARTITIONS = 6;
const TARGET_MS = 10_000;

ensureKafkaVersionEnv();
const fx = await openPipeline(PARTITIONS);
const store = await fx.store();
let cp: ControlPlane | undefined;
try {
  // --- the fleet, through the engine --------------------------------------------------------------
  progress(`provisioning ${SIZE.toLocaleString()} identities through the scope engine`);
  const engine = new ScopeEngine({ compilePolicies: compileScopePolicy, verifyReleaseWindow: () => true });
  const producer = { kind: 'trusted' as const, keyId: 'bench' };
  const t0 = Date.now() - 60_000;
  const out = emptyOutput();
  const apply = (e: LivescopeEventInput): void => {
    const r = engine.handle(LivescopeEvent.parse(e), { timestampMs: t0, producer }, out);
    if (r.status === 'rejected') throw new Error(`${e.type} ${e.id} rejected: ${r.message}`);
  };
  const policies = readPolicyDir(`${repoRoot}examples/policies`);
  apply(policiesEvent(policies, 'bench', t0));
  const r = seededRandom(SEED);
  const time = new Date(t0).toISOString();
  for (const m of fleetMembers(SEED, SIZE)) {
    for (const e of provisioningEvents(m, t0, 'bench')) apply(e);
    if (r() < 0.33) apply({ specversion: '1.0', id: `${m.id}/s`, type: 'session.started', source: 'bench', time, subject: m.id, data: { sessionId: `s-${m.id}`, task: 'work', mfa: r() < 0.5 } });
    if (r() < 0.2) {
      apply({
        specversion: '1.0',
        id: `${m.id}/a`,
        type: 'session.approval-granted',
        source: 'bench',
        time,
        subject: m.id,
        data: { approvalId: `ap-${m.id}`, escalation: 'secret-retrieval', approvedBy: 'alice', approver: { kind: 'human', subject: 'alice@example.com', issuer: 'https://idp.example.com', evidence: 'oidc-id-token' }, expiresAt: new Date(t0 + 6 * 3_600_000).toISOString() },
      });
    }
    out.changes.length = 0;
    out.snapshots.length = 0;
    out.alerts.length = 0;
    out.revocations.length = 0;
  }

  // --- the state of record -------------------------------------------------------------------------
  progress('writing the states to PostgreSQL');
  const all: IdentityState[] = [...engine.allIdentities()];
  let bytes = 0;
  for (let i = 0; i < all.length; i += 5000) {
    const chunk = all.slice(i, i + 5000);
    const texts = chunk.map(encodeIdentity);
    bytes += texts.reduce((n, t) => n + t.length, 0);
    await store.query(
      `INSERT INTO identity_state (identity_id, partition, version, status, wake_at, state)
       SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::timestamptz[], $6::text[])`,
      [chunk.map((s) => s.id), chunk.map((_, k) => (i + k) % PARTITIONS), chunk.map((s) => String(s.version)), chunk.map((s) => s.status), chunk.map((s) => (s.wakeAt === null ? null : new Date(s.wakeAt).toISOString())), texts],
      'bench load states',
    );
  }
  const globals = encodeGlobals(engine.globals);
  const published = encodePolicies(engine.publishedPolicies!);
  for (let p = 0; p < PARTITIONS; p++) {
    await store.query('INSERT INTO partition_state (topic, partition, next_offset, globals, policies) VALUES ($1, $2, 0, $3, $4)', [fx.topics.events, p, globals, published], 'bench partition');
  }
  await store.query('ANALYZE identity_state', [], 'analyze');
  const withScope = all.filter((s) => s.scope.length > 0).length;
  const avgPerms = all.reduce((n, s) => n + s.scope.length, 0) / all.length;

  // --- the control plane ---------------------------------------------------------------------------
  const issuer = generateKeyPairSync('ed25519');
  const cpKey = generateSigningKeyPair('bench-cp');
  cp = new ControlPlane(
    loadControlPlaneConfig({
      ...fx.workerEnv(),
      LIVESCOPE_PRODUCER_KEY_ID: cpKey.kid,
      LIVESCOPE_PRODUCER_KEY: cpKey.privateKey,
      LIVESCOPE_API_PORT: '0',
      LIVESCOPE_API_GROUP_ID: `${fx.groupId}-cp`,
      LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ bench: (issuer.publicKey.export({ format: 'jwk' }) as { x: string }).x }),
      LIVESCOPE_LOG_LEVEL: 'warn',
    }),
    fx.logger,
  );
  await cp.start();
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ roles: ['soc'] }).setProtectedHeader({ alg: 'EdDSA', kid: 'bench' }).setSubject('bench').setIssuer('livescope').setAudience('livescope-api').setIssuedAt(now).setExpirationTime(now + 3600).sign(issuer.privateKey);
  const impact = async (files: { id: string; text: string }[]): Promise<{ ms: number; body: { scanned: number; computed: number; durationMs: number; totals: { changed: number; lost: number; gained: number; losingEverything: number } } }> => {
    const start = performance.now();
    const res = await fetch(`${cp!.url}/v1/policies/impact`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ files, limit: 100 }), signal: AbortSignal.timeout(300_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`impact: ${res.status} ${text}`);
    return { ms: performance.now() - start, body: JSON.parse(text) as never };
  };

  // Baseline: read and decode every state, as the impact does, and nothing else.
  const readAll = async (): Promise<number> => {
    const start = performance.now();
    const interner = new PermInterner();
    let n = 0;
    for (let p = 0; p < PARTITIONS; p++) for await (const chunk of store.identitiesOf(p)) for (const row of chunk) n += decodeIdentity(row.state, interner).scope.length >= 0 ? 1 : 0;
    if (n !== SIZE) throw new Error(`read ${n} states, expected ${SIZE}`);
    return performance.now() - start;
  };

  const candidates: { name: string; files: { id: string; text: string }[] }[] = [
    { name: 'comment-only edit (no decision changes)', files: policies.map((f) => ({ id: f.id, text: `// reviewed\n${f.text}` })) },
    { name: 'forbid writes of agents (part of the fleet)', files: [...policies, { id: 'agents-read-only', text: 'forbid (principal, action in Livescope::Action::"access:write", resource)\nwhen { principal.kind == "agent" };\n' }] },
    { name: 'base permit removed (everyone loses everything)', files: policies.filter((f) => f.id !== 'base') },
  ];
  // One warm-up of each path (JIT, the compiled sets' cache), then the measured rounds.
  await readAll();
  for (const c of candidates) await impact(c.files);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const baselineTimes: number[] = [];
  for (let i = 0; i < ROUNDS; i++) baselineTimes.push(await readAll());
  const baselineMs = median(baselineTimes);
  const rows: Row[] = [{ workload: 'baseline: read + decode every state', identities: SIZE, changed: '-', 'checked': '-', 'median ms': Math.round(baselineMs), 'identities/s': Math.round((SIZE / baselineMs) * 1000), 'vs baseline': 1 }];
  const verdicts: string[] = [];
  for (const c of candidates) {
    const times: number[] = [];
    let last: Awaited<ReturnType<typeof impact>>['body'] | undefined;
    for (let i = 0; i < ROUNDS; i++) {
      const x = await impact(c.files);
      times.push(x.ms);
      last = x.body;
      progress(`${c.name}: ${Math.round(x.ms)} ms (server ${x.body.durationMs} ms), ${x.body.totals.changed} changed`);
    }
    const ms = median(times);
    if (last!.scanned !== SIZE) throw new Error(`scanned ${last!.scanned}, expected ${SIZE}`);
    rows.push({ workload: c.name, identities: SIZE, changed: last!.totals.changed, 'checked': last!.computed, 'median ms': Math.round(ms), 'identities/s': Math.round((SIZE / ms) * 1000), 'vs baseline': ms / baselineMs });
    verdicts.push(`${c.name}: ${(ms / 1000).toFixed(2)} s for ${SIZE.toLocaleString('en-US')} identities — target ≤ ${TARGET_MS / 1000} s for 100,000: ${SIZE >= 100_000 ? (ms <= TARGET_MS ? 'met' : 'NOT met') : 'n/a at this size'}`);
  }
  publish(
    {
      name: 'Policy impact over the state of record',
      command: process.env.LIVESCOPE_BENCH_COMMAND ?? `npx tsx --conditions=livescope-source bench/policy-impact/index.ts ${args.argv.join(' ')}`.trim(),
      setup: `${SIZE.toLocaleString('en-US')} identities (simulator fleet, seed ${SEED}; ${withScope.toLocaleString('en-US')} with a scope, ${avgPerms.toFixed(1)} permissions on average; a third with a live session, a fifth with an approval) provisioned through the scope engine under the example policies, states (${(bytes / 2 ** 20).toFixed(0)} MiB of JSON) in identity_state over ${PARTITIONS} partitions; a control plane answers POST /v1/policies/impact (limit 100), wall time of the HTTP request, median of ${ROUNDS} after one warm-up; baseline: reading and decoding every state in the same process`,
      rows,
      verdicts,
    },
    args,
  );
} finally {
  await cp?.stop().catch(() => undefined);
  await fx.close();
}
