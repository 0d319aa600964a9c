import { generateKeyPairSync } from 'node:crypto';
import { broadcastEvent, encodeWireJson, identityEvent, subjectSpecsFor, valueSubject, type DeadLetter, type DriftAlert, type LivescopeEventInput, type ScopeSnapshot } from '@livescope/contracts';
import { ControlPlane, loadControlPlaneConfig } from '@livescope/control-plane';
import { Enforcer } from '@livescope/enforcer';
import { aclPlan } from '@livescope/infra/aclPlan';
import { applyAclPlan, removeAclPlan } from '@livescope/infra/provision-acls';
import { Store } from '@livescope/store';
import { PipelineFixture, testEnv, TopicTail, waitFor, WorkerProcess } from '@livescope/testkit';
import { createProducer, ensureTopics, EventPublisher, generateSigningKeyPair, parsePublicKey, ProducerSigner } from '@livescope/transport';
import { SignJWT } from 'jose';
import type { Admin, Message, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, brokerErrorType, kafkaAs, refused, SECURE_BROKERS, securedEnv, SUPER_USER } from './support/securedBroker.js';

/**
 * The attacks of docs/threat-model.md, each tried against the real secured broker (TLS, SCRAM per
 * role, the ACL plan), the registry and PostgreSQL, with a scope worker, the control plane and an
 * enforcement point each authenticated as its role. One line per attack: attempted, refused by whom.
 */
const fx = new PipelineFixture(3);
const plan = aclPlan({ topicPrefix: fx.prefix, workerGroupId: fx.groupId, controlPlaneGroupId: `${fx.groupId}-cp` });
const cpKey = generateSigningKeyPair(`control-plane-${fx.id}`);
const issuer = generateKeyPairSync('ed25519');
const ISSUER = 'https://idp.test/attacks';
const AUDIENCE = 'livescope-api';
const FRESHNESS_MS = 4000;
const producers: Producer[] = [];
let admin: Admin;
let worker: WorkerProcess;
let cp: ControlPlane;
let enforcer: Enforcer;
let tail: TopicTail;
let eventsSchemaId = 0;
let provisioning: EventPublisher;
let controlPlaneKeyPublisher: EventPublisher;
const report: string[] = [];
const say = (attack: string, line: string): void => {
  report.push(`${attack}: ${line}`);
  process.stdout.write(`attack ${attack}: ${line}\n`);
};

async function producerAs(role: string): Promise<Producer> {
  const p = createProducer(kafkaAs(role, fx.id));
  producers.push(p);
  await p.connect();
  return p;
}

async function token(roles: string[], sub: string, o: { kind?: string | null; expiresInSec?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const kind = o.kind === undefined ? 'human' : o.kind;
  return new SignJWT({ roles, ...(kind !== null ? { kind } : {}) })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'attacks-idp' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (o.expiresInSec ?? 600))
    .sign(issuer.privateKey);
}

async function api(method: 'GET' | 'POST', path: string, bearer: string | undefined, body?: unknown): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${cp.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json };
}

const deadLetter = (eventId: string): Promise<DeadLetter> => waitFor(`the dead letter of ${eventId}`, () => tail.of<DeadLetter>(fx.topics.deadLetters).find((d) => d.value.eventId === eventId)?.value, 60_000);
const alert = (pred: (a: DriftAlert) => boolean, what: string): Promise<DriftAlert> => waitFor(what, () => tail.of<DriftAlert>(fx.topics.driftAlerts).find((a) => pred(a.value))?.value, 60_000);
const allows = (id: string, action: string, resource: string, session?: string): boolean => enforcer.authorize(id, session, action, resource).allowed;

/** An identity provisioned by the trusted provisioning producer, with a session and read/write grants. */
async function provisioned(id: string, extra: LivescopeEventInput[] = []): Promise<void> {
  const t = Date.now();
  await provisioning.publish([
    identityEvent('identity.created', id, { kind: 'agent', name: id, namespace: 'support', owner: 'team' }, { id: `${id}/c`, time: t }),
    identityEvent('entitlement.granted', id, { grantId: `${id}/g`, role: 'kb', permissions: [{ action: 'tickets:read', resource: 'tickets/all', access: 'read' }, { action: 'db:write', resource: 'db/kb', access: 'write' }] }, { id: `${id}/g`, time: t }),
    identityEvent('session.started', id, { sessionId: `${id}/A`, task: 'triage', system: 'idp' }, { id: `${id}/sA`, time: t }),
    identityEvent('session.started', id, { sessionId: `${id}/B`, task: 'triage', system: 'idp' }, { id: `${id}/sB`, time: t }),
    ...extra,
  ]);
  await waitFor(`${id} in the enforcer's view`, () => allows(id, 'tickets:read', 'tickets/all', `${id}/A`) || undefined, 60_000);
}

beforeAll(async () => {
  admin = kafkaAs('admin', fx.id, as(SUPER_USER)).admin();
  await admin.connect().catch((e: unknown) => {
    throw new Error(`the secured broker does not answer (${(e as Error).message}); start it with: bash infra/start.sh --secure`, { cause: e });
  });
  await ensureTopics(admin, { prefix: fx.prefix, partitions: fx.partitions });
  const ids = await fx.registry.registerAll(subjectSpecsFor(fx.prefix));
  eventsSchemaId = ids.get(valueSubject(fx.topics.events))!.id;
  await applyAclPlan(admin, plan);
  tail = await new TopicTail(kafkaAs('admin', `${fx.id}-tail`, as(SUPER_USER)), [fx.topics.deadLetters, fx.topics.driftAlerts, fx.topics.scopeSnapshots]).start();
  const keyring = fx.producerKeyring({ [cpKey.kid]: { publicKey: cpKey.publicKey, eventTypes: ['order.issued', 'order.lifted', 'session.approval-granted', 'session.approval-revoked'] } });
  worker = new WorkerProcess(`attacks-${fx.id}`, { ...fx.workerEnv(), ...securedEnv('scope-worker'), LIVESCOPE_PRODUCER_KEYS: keyring, LIVESCOPE_MAX_CONTROL_EVENT_AGE_MS: String(FRESHNESS_MS) }).start();
  const x = (issuer.publicKey.export({ format: 'jwk' }) as { x: string }).x;
  cp = new ControlPlane(
    loadControlPlaneConfig({
      ...fx.workerEnv(),
      ...securedEnv('control-plane'),
      LIVESCOPE_API_PORT: '0',
      LIVESCOPE_API_GROUP_ID: `${fx.groupId}-cp`,
      LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ 'attacks-idp': x }),
      LIVESCOPE_API_JWT_ISSUER: ISSUER,
      LIVESCOPE_API_JWT_AUDIENCE: AUDIENCE,
      LIVESCOPE_PRODUCER_KEY_ID: cpKey.kid,
      LIVESCOPE_PRODUCER_KEY: cpKey.privateKey,
    }),
    fx.logger,
  );
  await cp.start();
  enforcer = new Enforcer({ brokers: SECURE_BROKERS, ...as('enforcer'), registryUrl: testEnv.registryUrl, enforcerId: `gw-${fx.id}`, trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)], topicPrefix: fx.prefix, logger: fx.logger, flushIntervalMs: 200 });
  await enforcer.start();
  await enforcer.ready;
  provisioning = new EventPublisher(await producerAs('simulator'), fx.topics.events, eventsSchemaId, fx.partitions, ProducerSigner.fromConfig(fx.producerKeys.kid, fx.producerKeys.privateKey));
  controlPlaneKeyPublisher = new EventPublisher(await producerAs('control-plane'), fx.topics.events, eventsSchemaId, fx.partitions, ProducerSigner.fromConfig(cpKey.kid, cpKey.privateKey));
}, 300_000);

afterAll(async () => {
  process.stdout.write(`\n${report.length} attacks tried:\n${report.map((l) => `  ${l}`).join('\n')}\n`);
  await enforcer?.stop().catch(() => undefined);
  await cp?.stop().catch(() => undefined);
  await worker?.stop();
  await tail?.stop().catch(() => undefined);
  for (const p of producers) await p.disconnect().catch(() => undefined);
  if (admin) {
    await removeAclPlan(admin, plan, aclPlan({ topicPrefix: '' })).catch(() => undefined);
    const mine = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(fx.prefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin.disconnect();
  }
  const s = await Store.open({ connectionString: testEnv.pgUrl, schema: fx.schema }).catch(() => undefined);
  await s?.query(`DROP SCHEMA IF EXISTS ${fx.schema} CASCADE`, [], 'drop test schema').catch(() => undefined);
  await s?.close();
});

describe('attacks of the threat model, against the secured pipeline', () => {
  it('spoofed producer: an enforcement point cannot write control events; a principal that may write cannot widen without a control key', async () => {
    const id = `victim-1-${fx.id}`;
    await provisioned(id);
    const admin1 = identityEvent('entitlement.granted', id, { grantId: `${id}/evil`, role: 'admin', permissions: [{ action: 'db:admin', resource: 'db/kb', access: 'admin' }] }, { id: `${id}/evil`, time: Date.now() });
    const asEnforcer = new EventPublisher(await producerAs('enforcer'), fx.topics.events, eventsSchemaId, fx.partitions);
    const e = await refused('an enforcement point writing the events topic', () => asEnforcer.publish([admin1]));
    expect(brokerErrorType(e)).toBe('TOPIC_AUTHORIZATION_FAILED');
    say('spoofed producer (enforcement point)', `entitlement.granted by User:enforcer → refused by the broker (${brokerErrorType(e)})`);
    const asIngest = new EventPublisher(await producerAs('interop'), fx.topics.events, eventsSchemaId, fx.partitions);
    await asIngest.publish([admin1]);
    expect((await deadLetter(admin1.id)).reason).toBe('unauthorized-producer');
    await alert((a) => a.type === 'unauthorized-producer' && a.details.eventId === admin1.id, 'the unauthorized-producer alert');
    expect(allows(id, 'db:admin', 'db/kb', `${id}/A`)).toBe(false);
    say('spoofed producer (ingest, unsigned)', 'entitlement.granted by User:interop without a control key → refused by the scope worker (dead letter unauthorized-producer, alert); enforcer still denies db:admin');
  });

  it("forged producer signature: the control plane's key id with another key is refused", async () => {
    const id = `victim-2-${fx.id}`;
    await provisioned(id);
    const order = broadcastEvent('order.lifted', { orderId: 'any', actor: 'mallory' }, { id: `forged-${fx.id}`, time: Date.now() });
    const forger = ProducerSigner.fromConfig(cpKey.kid, generateSigningKeyPair('forger').privateKey);
    await new EventPublisher(await producerAs('interop'), fx.topics.events, eventsSchemaId, fx.partitions, forger).publish([order]);
    expect((await deadLetter(order.id)).reason).toBe('unauthorized-producer');
    say('forged producer signature', `order.lifted signed as ${cpKey.kid} with another key → refused by the scope worker (unauthorized-producer)`);
  });

  it('replayed control event: a captured signed enable, published again later, cannot undo a disable', async () => {
    const id = `victim-3-${fx.id}`;
    await provisioned(id);
    const t = Date.now();
    const disable = identityEvent('identity.disabled', id, { reason: 'incident' }, { id: `${id}/d1`, time: t });
    const enable = identityEvent('identity.enabled', id, { reason: 'resolved' }, { id: `${id}/e1`, time: t + 1 });
    const disable2 = identityEvent('identity.disabled', id, { reason: 'incident again' }, { id: `${id}/d2`, time: t + 2 });
    // The attacker captures the signed enable as it goes by (its exact bytes and headers).
    const captured: Message[] = provisioning.messages([enable], t);
    await provisioning.publish([disable, enable, disable2]);
    await waitFor('the identity disabled again', () => enforcer.authorize(id, `${id}/A`, 'tickets:read', 'tickets/all').code === 'inactive-identity' || undefined, 60_000);
    await new Promise((r) => setTimeout(r, FRESHNESS_MS + 500));
    await (await producerAs('interop')).send({ topic: fx.topics.events, acks: -1, messages: captured.map((m) => ({ ...m, timestamp: undefined })) });
    // The replay is a duplicate id too recent to forget, or refused as stale; either way it changes nothing.
    const dl = await deadLetter(enable.id);
    expect(dl.reason).toBe('stale-control-event');
    expect(enforcer.authorize(id, `${id}/A`, 'tickets:read', 'tickets/all').code).toBe('inactive-identity');
    say('replayed control event', `captured identity.enabled re-published ${FRESHNESS_MS} ms later → refused by the scope worker (${dl.reason}); the identity stays disabled`);
  });

  it('forged command: an unsigned widening scope change is rejected by the enforcement point with an alert', async () => {
    const id = `victim-4-${fx.id}`;
    await provisioned(id);
    const held = enforcer.state.identities.get(id)!.version;
    const forged: ScopeSnapshot = { kind: 'scope.snapshot', identityId: id as never, version: held + 10, at: new Date().toISOString(), status: 'active', permissions: [{ action: 'db:admin', resource: 'db/kb', access: 'admin', validUntil: null, grants: ['forged'] }], sessions: [`${id}/A` as never] };
    // The broker lets only the workers write commands: an attacker needs a stolen credential (here the admin's).
    const asIngest = await producerAs('interop');
    const e = await refused('ingest writing a scope snapshot', () => asIngest.send({ topic: fx.topics.scopeSnapshots, acks: -1, messages: [{ key: id, value: encodeWireJson(1, forged) }] }));
    expect(brokerErrorType(e)).toBe('TOPIC_AUTHORIZATION_FAILED');
    const stolen = createProducer(kafkaAs('admin', `${fx.id}-stolen`, as(SUPER_USER)));
    producers.push(stolen);
    await stolen.connect();
    const schemaId = (await fx.registry.loadSubjectIds(`${fx.topics.scopeSnapshots}-value`)).values().next().value!;
    await stolen.send({ topic: fx.topics.scopeSnapshots, acks: -1, messages: [{ key: id, value: encodeWireJson(schemaId, forged) }] });
    await alert((a) => a.type === 'rejected-command' && a.identityId === id, 'the rejected-command alert of the enforcement point');
    expect(allows(id, 'db:admin', 'db/kb', `${id}/A`)).toBe(false);
    say('forged command', `unsigned snapshot (v${held + 10}, db:admin) → refused by the broker for User:interop (${brokerErrorType(e)}); written with a stolen credential → rejected by the enforcement point (rejected-command alert)`);
  });

  it('rolled-back command: a genuine pre-quarantine snapshot published again is rejected; the enforcement point keeps the newer version', async () => {
    const id = `victim-8-${fx.id}`;
    await provisioned(id);
    const before = await waitFor('the genuine snapshot before the quarantine', () => tail.of<ScopeSnapshot>(fx.topics.scopeSnapshots).filter((m) => m.value.identityId === id).at(-1), 60_000);
    const order = await api('POST', '/v1/orders', await token(['responder'], 'bob'), { kind: 'quarantine', target: { identityId: id }, reason: 'suspected key leak' });
    expect(order.status).toBe(202);
    await waitFor('the quarantine at the enforcement point', () => !allows(id, 'tickets:read', 'tickets/all', `${id}/A`) || undefined, 60_000);
    const held = enforcer.state.identities.get(id)!.version;
    // Snapshots are spaced (LIVESCOPE_SNAPSHOT_INTERVAL_MS): the replay is told from a slow topic once
    // the quarantine's own snapshot is on the snapshot topic (within the interval it is ignored as
    // stale, without an alert; it changes nothing either way — see docs/guarantees.md).
    await waitFor('the quarantine’s snapshot', () => tail.of<ScopeSnapshot>(fx.topics.scopeSnapshots).find((m) => m.value.identityId === id && m.value.version >= held), 60_000);
    const stolen = createProducer(kafkaAs('admin', `${fx.id}-rollback`, as(SUPER_USER)));
    producers.push(stolen);
    await stolen.connect();
    await stolen.send({ topic: fx.topics.scopeSnapshots, acks: -1, messages: [{ key: id, value: before.raw, headers: before.headers }] });
    const a = await alert((x) => x.type === 'rejected-command' && x.identityId === id && x.details.code === 'VERSION_ROLLBACK', 'the rollback alert');
    expect(enforcer.state.identities.get(id)!.version).toBe(held);
    expect(allows(id, 'tickets:read', 'tickets/all', `${id}/A`)).toBe(false);
    say('rolled-back command', `genuine snapshot v${before.value.version} re-published after the quarantine (v${held}) → rejected by the enforcement point (${String(a.details.code)}, alert); still quarantined`);
  });

  it('rogue enforcement point: it cannot write events, and its decision reports cannot widen anything', async () => {
    const id = `victim-9-${fx.id}`;
    await provisioned(id);
    const asEnforcer = await producerAs('enforcer');
    const schemaId = (await fx.registry.loadSubjectIds(`${fx.topics.enforcerReports}-value`)).values().next().value!;
    const t = new Date().toISOString();
    const report = (rid: string, subject: string): LivescopeEventInput => ({
      specversion: '1.0',
      id: rid,
      type: 'enforcement.decisions',
      source: 'enforcer/rogue',
      time: t,
      subject,
      data: { enforcerId: 'gw-rogue', windowStart: t, windowEnd: t, decisions: [{ action: 'db:admin', resource: 'db/kb', allowed: 1000, denied: 0 }] },
    });
    // A report keyed to another identity, and one that is not a report at all: the relay dead-letters both.
    await asEnforcer.send({
      topic: fx.topics.enforcerReports,
      acks: -1,
      messages: [
        { key: id, value: encodeWireJson(schemaId, report(`${id}/r1`, id)) },
        { key: 'someone-else', value: encodeWireJson(schemaId, report(`${id}/r2`, id)) },
        { key: id, value: encodeWireJson(schemaId, { ...report(`${id}/r3`, id), type: 'entitlement.granted' }) },
      ],
    });
    const relayed = await waitFor('the relay to dead-letter the malformed reports', () => {
      const d = tail.of<DeadLetter>(fx.topics.deadLetters).filter((x) => x.value.source.topic === fx.topics.enforcerReports && Buffer.from(x.value.value, 'base64').toString().includes(`${id}/r`));
      return d.length >= 2 ? d : undefined;
    }, 60_000);
    expect(relayed.map((d) => d.value.reason).sort()).toEqual(['key-mismatch', 'schema-invalid']);
    await new Promise((r) => setTimeout(r, 1500));
    expect(allows(id, 'db:admin', 'db/kb', `${id}/A`)).toBe(false);
    say('rogue enforcement point', 'reports claiming db:admin use → relayed as an observation that cannot widen (still denied); a report keyed to another identity or of another type → dead-lettered by the relay (key-mismatch, schema-invalid)');
  });

  it('non-human and self approvals never widen; an approval holds only in its session', async () => {
    const id = `victim-5-${fx.id}`;
    await provisioned(id, [identityEvent('entitlement.granted', `victim-5-${fx.id}`, { grantId: `victim-5-${fx.id}/s`, role: 'kb-secrets', permissions: [{ action: 'secrets:read', resource: 'secret/kb', access: 'read' }] }, { id: `victim-5-${fx.id}/s`, time: Date.now() })]);
    await provisioning.publish([broadcastEvent('policies.published', { version: 1, policies: [{ id: 'base', text: 'permit(principal, action, resource);' }, { id: 'escalation', text: 'forbid (principal, action == Livescope::Action::"secrets:read", resource) unless { context.humanApprovals.contains("secret-retrieval") };' }], publishedBy: 'platform' }, { id: `pol-${fx.id}`, time: Date.now() })]);
    await waitFor('the escalation policy in force', () => (!allows(id, 'secrets:read', 'secret/kb', `${id}/A`) && allows(id, 'tickets:read', 'tickets/all', `${id}/A`)) || undefined, 60_000);
    const body = { escalation: 'secret-retrieval', sessionId: `${id}/A`, ttlSeconds: 600 };
    const machine = await api('POST', `/v1/identities/${id}/approvals`, await token(['approver'], 'orchestrator-svc', { kind: 'workload' }), body);
    expect(machine.status).toBe(403);
    const self = await api('POST', `/v1/identities/${id}/approvals`, await token(['approver'], id), body);
    expect(self.status).toBe(403);
    // A producer allowed to send approvals (the control plane's key) that claims an agent approved.
    const forgedKind = identityEvent('session.approval-granted', id, { approvalId: `ap-agent-${fx.id}`, escalation: 'secret-retrieval', sessionId: `${id}/A`, approvedBy: 'agent-7', approver: { kind: 'agent', subject: 'agent-7', issuer: ISSUER, evidence: 'none' }, expiresAt: new Date(Date.now() + 600_000).toISOString() }, { id: `${id}/ap-agent`, time: Date.now() });
    await controlPlaneKeyPublisher.publish([forgedKind]);
    expect((await deadLetter(forgedKind.id)).reason).toBe('invalid-approval');
    await alert((a) => a.type === 'invalid-approval' && a.identityId === id, 'the invalid-approval alert');
    expect(allows(id, 'secrets:read', 'secret/kb', `${id}/A`)).toBe(false);
    say('non-human approver', `workload token → refused by the control plane (403); self-approval → refused by the control plane (403); a signed approval by an agent → refused by the scope worker (invalid-approval, alert)`);
    const human = await api('POST', `/v1/identities/${id}/approvals`, await token(['approver'], 'alice@example.com'), body);
    expect(human.status).toBe(202);
    await waitFor('the approved secret in session A', () => allows(id, 'secrets:read', 'secret/kb', `${id}/A`) || undefined, 60_000);
    expect(allows(id, 'secrets:read', 'secret/kb', `${id}/B`)).toBe(false);
    say('approval used in another session', `approved for session A by a person → allowed in A, denied in B by the enforcement point (${enforcer.authorize(id, `${id}/B`, 'secrets:read', 'secret/kb').code})`);
  });

  it('poisoned input and time manipulation: a prototype-named type costs only itself; a message dated ahead cannot expire a quarantine', async () => {
    const id = `victim-6-${fx.id}`;
    await provisioned(id);
    const asIngest = await producerAs('interop');
    const poison = JSON.stringify({ specversion: '1.0', id: `${id}/poison`, source: 'x', time: new Date().toISOString(), type: 'constructor', subject: id, data: {} });
    await asIngest.send({ topic: fx.topics.events, acks: -1, messages: [{ key: id, value: Buffer.concat([encodeWireJson(eventsSchemaId, {}).subarray(0, 5), Buffer.from(poison)]) }] });
    const poisoned = await waitFor('the dead letter of the poison', () => tail.of<DeadLetter>(fx.topics.deadLetters).find((d) => Buffer.from(d.value.value, 'base64').toString().includes(`${id}/poison`))?.value, 60_000);
    expect(poisoned.reason).toBe('schema-invalid');
    const order = await api('POST', '/v1/orders', await token(['responder'], 'bob'), { kind: 'quarantine', target: { identityId: id }, reason: 'suspected key leak', ttlSeconds: 7200 });
    expect(order.status).toBe(202);
    await waitFor('the quarantine at the enforcement point', () => !allows(id, 'tickets:read', 'tickets/all', `${id}/A`) || undefined, 60_000);
    // Dated three hours ahead by the producer: the broker stamps its own time.
    await asIngest.send({ topic: fx.topics.events, acks: -1, messages: [{ key: id, timestamp: String(Date.now() + 3 * 3_600_000), value: encodeWireJson(eventsSchemaId, identityEvent('telemetry.risk-scored', id, { score: 40 }, { id: `${id}/late`, time: Date.now() })) }] });
    await new Promise((r) => setTimeout(r, 3000));
    expect(allows(id, 'tickets:read', 'tickets/all', `${id}/A`)).toBe(false);
    say('poisoned input', `"type":"constructor" by User:interop → dead-lettered alone by the scope worker (schema-invalid); the partition went on`);
    say('time manipulation', 'a message dated 3 h ahead after a 2 h quarantine → ignored: the broker stamps the append time (LogAppendTime); still quarantined');
  });

  it('stolen control-plane token: a responder cannot widen; an expired token is refused', async () => {
    const id = `victim-7-${fx.id}`;
    await provisioned(id);
    const responder = await token(['responder'], 'eve');
    const approve = await api('POST', `/v1/identities/${id}/approvals`, responder, { escalation: 'secret-retrieval', ttlSeconds: 60 });
    expect(approve.status).toBe(403);
    const expired = await api('GET', `/v1/identities/${id}/scope`, await token(['admin'], 'eve', { expiresInSec: -120 }));
    expect(expired.status).toBe(401);
    say('stolen control-plane token', 'a responder token approving → refused by the control plane (403); an expired admin token → refused (401)');
  });

  it('tampered audit: rows cannot be deleted or truncated, and verify stays clean', async () => {
    const store = await fx.store();
    await expect(store.query('DELETE FROM audit_log', [], 'delete audit')).rejects.toThrow(/append-only/);
    await expect(store.query('TRUNCATE audit_log', [], 'truncate audit')).rejects.toThrow(/append-only/);
    const verified = await store.verifyAudit();
    if (!verified.ok) {
      const { rows } = await store.query<{ partition: number; seq: string; kind: string; at: string; event_id: string | null }>('SELECT partition, seq, kind, at, event_id FROM audit_log ORDER BY partition, seq LIMIT 30', [], 'audit rows');
      process.stdout.write(`audit rows:\n${rows.map((r) => `  p${r.partition} #${r.seq} ${r.kind} ${r.event_id ?? ''}`).join('\n')}\n`);
    }
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    say('tampered audit', 'DELETE and TRUNCATE of audit_log → refused by PostgreSQL (append-only triggers); audit verify clean');
  });
});
