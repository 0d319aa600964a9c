import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { identityEvent, type LivescopeEventInput, type ScopeChange } from '@livescope/contracts';
import { ControlPlane, loadControlPlaneConfig } from '@livescope/control-plane';
import { randomPolicyEdit, seededRandom, type EditVocabulary, type PolicyFileText } from '@livescope/scope-engine';
import { fleetMembers, provisioningEvents } from '@livescope/simulator';
import type { Store } from '@livescope/store';
import { PipelineFixture, waitFor, WorkerProcess } from '@livescope/testkit';
import { generateSigningKeyPair } from '@livescope/transport';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 18, correctness of the prediction: over the real pipeline (Kafka, a scope worker process,
 * PostgreSQL, the control plane's HTTP API), seeded random policy edits are published one after the
 * other to a fleet; before each, the impact computed by the control plane from the workers' state
 * must equal, identity by identity, the permissions the workers then add and remove (the scope
 * changes caused by that publication, as committed to the audit log), and the scope counts after.
 *
 *   POLICY_IMPACT_SEED=123 POLICY_IMPACT_EDITS=30 npx vitest run --config ../config/vitest.e2e.ts policy-impact
 */
const SEED = Number(process.env.POLICY_IMPACT_SEED ?? 77);
const EDITS = Number(process.env.POLICY_IMPACT_EDITS ?? 20);
const FLEET = Number(process.env.POLICY_IMPACT_FLEET ?? 240);

const examplesDir = new URL('../examples/policies/', import.meta.url);
const exampleFiles: PolicyFileText[] = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.cedar'))
  .sort()
  .map((f) => ({ id: f.replace(/\.cedar$/, ''), text: readFileSync(new URL(f, examplesDir), 'utf8') }));

let fx: PipelineFixture;
let worker: WorkerProcess;
let cp: ControlPlane;
let store: Store;
let token: string;
const issuer = generateKeyPairSync('ed25519');
const cpKey = generateSigningKeyPair('cp-policy-e2e');
const members = fleetMembers(SEED, FLEET);

async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${cp.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

interface Impact {
  scanned: number;
  totals: { changed: number; gained: number; lost: number; losingEverything: number };
  identities: { identityId: string; after: number; gained: { action: string; resource: string }[]; lost: { action: string; resource: string }[] }[];
  identitiesTruncated: boolean;
}
interface Publication {
  status: string;
  version: number | null;
  eventId: string | null;
}

const key = (p: { action: string; resource: string }): string => `${p.action} ${p.resource}`;

async function publishAndWait(files: readonly PolicyFileText[]): Promise<Publication> {
  const p = await api<Publication>('POST', '/v1/policies/publish', { files });
  if (p.status === 'published') {
    const s = await api<{ complete: boolean; refused: boolean }>('GET', `/v1/policies/versions/${p.version}/status?waitMs=60000`);
    expect(s, `version ${p.version} applied by every partition`).toMatchObject({ complete: true, refused: false });
  }
  return p;
}

/** Scope changes the workers committed for an event (the audit log is committed with the partition's offset). */
async function changesOf(eventId: string): Promise<ScopeChange[]> {
  const { rows } = await store.query<{ payload: string }>(`SELECT payload FROM audit_log WHERE kind = 'scope.change' AND event_id = $1`, [eventId], 'read changes');
  return rows.map((r) => JSON.parse(r.payload) as ScopeChange);
}

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  const keyring = fx.producerKeyring({ [cpKey.kid]: { publicKey: cpKey.publicKey, eventTypes: ['policies.published'] } });
  worker = new WorkerProcess('policy-impact-worker', fx.workerEnv({ LIVESCOPE_PRODUCER_KEYS: keyring })).start();
  const x = (issuer.publicKey.export({ format: 'jwk' }) as { x: string }).x;
  cp = new ControlPlane(
    loadControlPlaneConfig({
      ...fx.workerEnv({ LIVESCOPE_PRODUCER_KEYS: keyring }),
      LIVESCOPE_PRODUCER_KEY_ID: cpKey.kid,
      LIVESCOPE_PRODUCER_KEY: cpKey.privateKey,
      LIVESCOPE_API_PORT: '0',
      LIVESCOPE_API_GROUP_ID: `${fx.groupId}-cp`,
      LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ e2e: x }),
    }),
    fx.logger,
    { validateResponses: true },
  );
  await cp.start();
  const now = Math.floor(Date.now() / 1000);
  token = await new SignJWT({ roles: ['approver', 'soc'], kind: 'human' }).setProtectedHeader({ alg: 'EdDSA', kid: 'e2e' }).setSubject('policy-e2e').setIssuer('livescope').setAudience('livescope-api').setIssuedAt(now - 60).setExpirationTime(now + 3600).sign(issuer.privateKey);
  store = await fx.store();

  // The fleet: provisioned identities, a third with a live session (some with MFA), a fifth with a
  // person's approval — all without expiry during the test, so that only the publications move scopes.
  const t = Date.now();
  const r = seededRandom(SEED);
  const events: LivescopeEventInput[] = [];
  for (const m of members) {
    events.push(...provisioningEvents(m, t, 'policy-e2e'));
    if (r() < 0.35) events.push(identityEvent('session.started', m.id, { sessionId: `s-${m.id}`, task: 'work', mfa: r() < 0.5 }, { id: `${m.id}/session`, time: t }));
    if (r() < 0.2) {
      events.push(
        identityEvent(
          'session.approval-granted',
          m.id,
          { approvalId: `ap-${m.id}`, escalation: r() < 0.5 ? 'secret-retrieval' : 'k8s:deploy', approvedBy: 'alice', approver: { kind: 'human', subject: 'alice@example.com', issuer: 'https://idp.example.com', evidence: 'oidc-id-token' }, expiresAt: new Date(t + 3 * 3_600_000).toISOString() },
          { id: `${m.id}/approval`, time: t },
        ),
      );
    }
  }
  await fx.publish(events);
  await waitFor(
    'the worker to start',
    () => Promise.resolve(worker.crashed !== undefined || worker.logs.some((l) => l.includes('assigned') || l.includes('partition'))),
    60_000,
    250,
  ).catch(() => undefined);
  if (worker.crashed) throw new Error(`the worker crashed: ${worker.crashed}`);
  await waitFor(
    `the worker to hold all ${members.length} identities`,
    async () => Number((await store.query<{ n: string }>('SELECT count(*)::text AS n FROM identity_state', [], 'count')).rows[0]!.n) === members.length,
    120_000,
    250,
  );
  const first = await publishAndWait(exampleFiles);
  expect(first.status).toBe('published');
}, 240_000);

afterAll(async () => {
  await cp?.stop();
  await worker?.stop();
  await fx?.close();
});

describe('policy impact prediction', () => {
  it(`for ${EDITS} seeded random edits, the impact computed beforehand equals the scope changes observed afterwards, identity by identity`, async () => {
    const roles = [...new Set(members.flatMap((m) => m.roles.map((x) => x.name)))].sort();
    const vocabulary: EditVocabulary = {
      actions: [...new Set(members.flatMap((m) => m.roles.flatMap((x) => x.permissions.map((p) => p.action))))].sort(),
      namespaces: [...new Set(members.map((m) => m.namespace))].sort(),
      roles,
      kinds: ['agent', 'workload', 'service-account', 'ci-job'],
      labels: [...new Set(members.map((m) => m.namespace))].sort().map((ns) => ['team', ns] as const),
    };
    const r = seededRandom(SEED + 1);
    let files: readonly PolicyFileText[] = exampleFiles;
    const summary = { edits: 0, published: 0, identitiesCompared: 0, changedIdentities: 0, permissionsMoved: 0, losingEverything: 0, mismatches: 0 };
    for (let n = 1; n <= EDITS; n++) {
      const edit = randomPolicyEdit(r, files, vocabulary, n);
      const impact = await api<Impact>('POST', '/v1/policies/impact', { files: edit.files, limit: 10_000 });
      expect(impact.identitiesTruncated).toBe(false);
      expect(impact.scanned).toBe(members.length);
      const p = await publishAndWait(edit.files);
      summary.edits++;
      const predicted = new Map(impact.identities.filter((i) => i.gained.length + i.lost.length > 0).map((i) => [i.identityId, { gained: i.gained.map(key).sort(), lost: i.lost.map(key).sort() }]));
      const observed = new Map<string, { gained: string[]; lost: string[] }>();
      if (p.status === 'published') {
        summary.published++;
        for (const c of await changesOf(p.eventId!)) {
          if (c.added.length + c.removed.length === 0) continue;
          expect(observed.has(c.identityId), `one change per identity for ${p.eventId}`).toBe(false);
          observed.set(c.identityId, { gained: c.added.map(key).sort(), lost: c.removed.map(key).sort() });
        }
      } else expect(p.status, 'an edit that leaves the content as it is publishes nothing').toBe('unchanged');
      const ids = new Set([...predicted.keys(), ...observed.keys()]);
      const mismatches = [...ids].filter((id) => JSON.stringify(predicted.get(id)) !== JSON.stringify(observed.get(id)));
      summary.mismatches += mismatches.length;
      expect(
        mismatches.map((id) => ({ id, predicted: predicted.get(id), observed: observed.get(id) })),
        `edit ${n} (${edit.description}): predicted and observed differ`,
      ).toEqual([]);
      // The scope counts after, too.
      for (const i of impact.identities) {
        const { rows } = await store.query<{ state: string }>('SELECT state FROM identity_state WHERE identity_id = $1', [i.identityId], 'read state');
        expect((JSON.parse(rows[0]!.state.replaceAll('\\u0000', ' ')) as { sc: unknown[] }).sc.length, `permissions of ${i.identityId} after edit ${n}`).toBe(i.after);
      }
      summary.identitiesCompared += members.length;
      summary.changedIdentities += observed.size;
      summary.permissionsMoved += impact.totals.gained + impact.totals.lost;
      summary.losingEverything += impact.totals.losingEverything;
      files = edit.files;
    }
    process.stdout.write(`policy impact prediction (seed ${SEED}): ${JSON.stringify(summary)}\n`);
    // The edits must move the fleet, or equality proves nothing.
    expect(summary.changedIdentities).toBeGreaterThan(EDITS * 5);
    expect(summary.mismatches).toBe(0);
  }, 600_000);
});
