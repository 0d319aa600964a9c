import type { DeadLetter, DriftAlert, Revocation, ScopeChange, TopicNames } from '@livescope/contracts';
import { decodeWire } from '@livescope/contracts';
import type { Consumer, Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';

/** Human-readable lines for the pipeline's outputs (the live view of `npm start`). */
export function describeChange(c: ScopeChange): string {
  const head = c.direction === 'narrowing' ? '↓ NARROW ' : c.direction === 'widening' ? '↑ WIDEN  ' : c.direction === 'mixed' ? '↕ CHANGE ' : '· REFRESH';
  const parts = [...c.removed.map((p) => `-${p.action} ${p.resource}`), ...c.added.map((p) => `+${p.action} ${p.resource}${p.validUntil ? ` (until ${p.validUntil.slice(11, 19)})` : ''}`)];
  const why = c.cause.timer ? 'time passed (worker timer, no input event)' : [c.cause.eventType, c.cause.orderIds?.length ? `order ${c.cause.orderIds.join(',')}` : '', c.cause.policyIds?.length ? `policy ${c.cause.policyIds.join(',')}` : ''].filter(Boolean).join('; ');
  return `${head} ${c.identityId} v${c.version} ${c.status !== 'active' ? `[${c.status}] ` : ''}${parts.join('  ') || '(sessions changed)'}  ← ${why}`;
}

export function describeRevocation(r: Revocation): string {
  return `✖ REVOKE  ${r.identityId} ${r.target.type} ${r.target.id} at ${r.target.system}  ← ${r.reason}`;
}

export function describeAlert(a: DriftAlert): string {
  return `⚠ ALERT   [${a.severity}] ${a.type} ${a.identityId ?? a.enforcerId ?? ''}: ${a.summary}`;
}

export function describeDeadLetter(d: DeadLetter): string {
  return `☠ DEAD    ${d.reason} at ${d.source.topic}/${d.source.partition}@${d.source.offset}: ${d.message}`;
}

/** Follows the output topics from their current end and prints each output as one line. */
export async function followFeed(kafka: Kafka, topics: TopicNames, write: (line: string) => void, options: { quietRefresh?: boolean } = {}): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `livescope-feed-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.scopeChanges, topics.revocations, topics.driftAlerts, topics.deadLetters], fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachMessage: ({ topic, message }) => {
      let value: unknown;
      try {
        value = JSON.parse(decodeWire(message.value).payload.toString('utf8'));
      } catch {
        return Promise.resolve();
      }
      const ts = new Date(Number(message.timestamp)).toISOString().slice(11, 23);
      if (topic === topics.scopeChanges) {
        const c = value as ScopeChange;
        if (options.quietRefresh && c.direction === 'refresh') return Promise.resolve();
        write(`${ts} ${describeChange(c)}`);
      } else if (topic === topics.revocations) write(`${ts} ${describeRevocation(value as Revocation)}`);
      else if (topic === topics.driftAlerts) write(`${ts} ${describeAlert(value as DriftAlert)}`);
      else write(`${ts} ${describeDeadLetter(value as DeadLetter)}`);
      return Promise.resolve();
    },
  });
  return consumer;
}
