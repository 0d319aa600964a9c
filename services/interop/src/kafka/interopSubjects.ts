import { OcsfDetectionFinding } from '@livescope/adapters';
import { CaepTopicRecord } from '@livescope/caep';
import { subjectSpecsFor, Topics, valueSubject, type SubjectSpec, type TopicName } from '@livescope/contracts';

/**
 * Registry subjects of the two topics this service writes that `@livescope/contracts` does not
 * define a schema for yet (see the report: proposed for `subjectSpecs`), plus the contract subjects
 * it writes (events, dead letters).
 */
export function interopSubjectSpecs(prefix: string): SubjectSpec[] {
  const own = (topic: TopicName, topicKey: keyof typeof Topics, schema: SubjectSpec['schema'], title: string): SubjectSpec => ({
    topic: `${prefix}${topic}` as TopicName,
    topicKey,
    subject: `${prefix}${valueSubject(topic)}`,
    schema,
    title,
  });
  const contract = subjectSpecsFor(prefix).filter((s) => s.topicKey === 'events' || s.topicKey === 'deadLetters');
  return [...contract, own(Topics.caepEvents, 'caepEvents', CaepTopicRecord, 'livescope CAEP security event token'), own(Topics.ocsfAlerts, 'ocsfAlerts', OcsfDetectionFinding, 'livescope drift alert as an OCSF Detection Finding')];
}
