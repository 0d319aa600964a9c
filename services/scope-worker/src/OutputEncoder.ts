import { encodeWire, valueSubject, type DeadLetter, type TopicNames } from '@livescope/contracts';
import type { EngineOutput } from '@livescope/scope-engine';
import type { BatchCommit } from '@livescope/store';
import type { CommandSigner } from '@livescope/transport';
import type { Message, TopicMessages } from 'kafkajs';

type AuditRow = BatchCommit['audit'][number];

/**
 * Turns engine outputs into Kafka messages (wire format, signed where an enforcer consumes them)
 * and audit rows. Each value is serialised once and reused for the audit payload.
 */
export class OutputEncoder {
  constructor(
    private readonly topics: TopicNames,
    private readonly schemaIds: ReadonlyMap<string, number>,
    private readonly signer: CommandSigner,
  ) {}

  private id(topic: string): number {
    const id = this.schemaIds.get(valueSubject(topic));
    if (id === undefined) throw new Error(`no schema id registered for ${topic}`);
    return id;
  }

  encode(out: EngineOutput, deadLetters: readonly DeadLetter[], audit: AuditRow[]): TopicMessages[] {
    const t = this.topics;
    const changes: Message[] = [];
    const snapshots: Message[] = [];
    const revocations: Message[] = [];
    const alerts: Message[] = [];
    const dead: Message[] = [];
    for (const c of out.changes) {
      const json = JSON.stringify(c);
      changes.push(this.signed(t.scopeChanges, c.identityId, json));
      audit.push({ at: c.at, kind: 'scope.change', identityId: c.identityId, version: c.version, actor: c.cause.actor ?? null, eventId: c.cause.eventId ?? null, payload: json });
    }
    for (const s of out.snapshots) snapshots.push(this.signed(t.scopeSnapshots, s.identityId, JSON.stringify(s)));
    for (const r of out.revocations) {
      const json = JSON.stringify(r);
      revocations.push(this.signed(t.revocations, r.identityId, json));
      audit.push({ at: r.at, kind: 'revocation', identityId: r.identityId, version: r.version, actor: r.cause.actor ?? null, eventId: r.cause.eventId ?? null, payload: json });
    }
    for (const a of out.alerts) {
      const json = JSON.stringify(a);
      alerts.push({ key: a.identityId ?? null, value: encodeWire(this.id(t.driftAlerts), Buffer.from(json)) });
      audit.push({ at: a.at, kind: 'drift.alert', identityId: a.identityId ?? null, version: null, actor: a.cause.actor ?? null, eventId: a.cause.eventId ?? null, payload: json });
    }
    for (const d of deadLetters) dead.push({ key: null, value: encodeWire(this.id(t.deadLetters), Buffer.from(JSON.stringify(d))) });
    const result: TopicMessages[] = [];
    if (changes.length) result.push({ topic: t.scopeChanges, messages: changes });
    if (snapshots.length) result.push({ topic: t.scopeSnapshots, messages: snapshots });
    if (revocations.length) result.push({ topic: t.revocations, messages: revocations });
    if (alerts.length) result.push({ topic: t.driftAlerts, messages: alerts });
    if (dead.length) result.push({ topic: t.deadLetters, messages: dead });
    return result;
  }

  signed(topic: string, key: string, json: string, partition?: number): Message {
    const value = encodeWire(this.id(topic), Buffer.from(json));
    const msg: Message = { key, value, headers: this.signer.headers(value) };
    if (partition !== undefined) msg.partition = partition;
    return msg;
  }
}
