import { z } from 'zod';
import { AuditHead, DeadLetter, DriftAlert, EnforcerAck, Heartbeat, Revocation, ScopeChange, ScopeSnapshot } from './commands.js';
import { DecisionsReported, LivescopeEvent } from './events.js';
import { CaepTopicRecord, OcsfDetectionFinding } from './interopOutputs.js';
import { Topics, type TopicName } from './topics.js';

/**
 * Value schemas registered in the schema registry, one subject per topic (TopicNameStrategy:
 * `<topic>-value`). Breaking changes get a new topic with the next major version (`.v2`); within a
 * major version the subject's compatibility is BACKWARD, enforced by the registry.
 */
export interface SubjectSpec {
  readonly topic: TopicName;
  /** Key of the topic in `Topics` / `TopicNames`. */
  readonly topicKey: keyof typeof Topics;
  readonly subject: string;
  readonly schema: z.ZodType;
  readonly title: string;
}

const subject = (topic: TopicName, schema: z.ZodType, title: string): SubjectSpec => ({
  topic,
  topicKey: (Object.keys(Topics) as (keyof typeof Topics)[]).find((k) => Topics[k] === topic)!,
  subject: `${topic}-value`,
  schema,
  title,
});

/** The subject specs for topics under a prefix (see `topicNames`). */
export function subjectSpecsFor(prefix: string): SubjectSpec[] {
  return subjectSpecs.map((s) => ({ ...s, topic: `${prefix}${s.topic}` as TopicName, subject: `${prefix}${s.subject}` }));
}

export const ScopeCommand = z.discriminatedUnion('kind', [ScopeChange, ScopeSnapshot]);
export type ScopeCommand = z.infer<typeof ScopeCommand>;

export const subjectSpecs: readonly SubjectSpec[] = [
  subject(Topics.events, LivescopeEvent, 'livescope input event'),
  subject(Topics.scopeChanges, ScopeChange, 'livescope scope change'),
  subject(Topics.scopeSnapshots, ScopeSnapshot, 'livescope scope snapshot'),
  subject(Topics.revocations, Revocation, 'livescope revocation'),
  subject(Topics.driftAlerts, DriftAlert, 'livescope drift alert'),
  subject(Topics.heartbeats, Heartbeat, 'livescope worker heartbeat'),
  subject(Topics.enforcerAcks, EnforcerAck, 'livescope enforcer acknowledgement'),
  subject(Topics.enforcerReports, DecisionsReported, 'livescope enforcement decision report'),
  subject(Topics.deadLetters, DeadLetter, 'livescope dead letter'),
  subject(Topics.caepEvents, CaepTopicRecord, 'livescope CAEP security event token'),
  subject(Topics.ocsfAlerts, OcsfDetectionFinding, 'livescope drift alert as an OCSF Detection Finding'),
  subject(Topics.auditHeads, AuditHead, 'livescope audit chain head'),
];

export function subjectFor(topic: TopicName): SubjectSpec {
  const spec = subjectSpecs.find((s) => s.topic === topic);
  if (!spec) throw new Error(`no subject is defined for topic ${topic}`);
  return spec;
}

/** JSON Schema (draft-07, what the registry client's validator speaks) of a subject, generated from zod. */
export function jsonSchemaOf(spec: SubjectSpec): Record<string, unknown> {
  const schema = z.toJSONSchema(spec.schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' });
  return { ...schema, title: spec.title, $id: `https://livescope.dev/schemas/${spec.subject}.json` };
}
