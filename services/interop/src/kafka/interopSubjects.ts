import { subjectSpecsFor, type SubjectSpec } from '@livescope/contracts';

/** Registry subjects this service writes: input events, dead letters, CAEP SETs and OCSF findings (all contracts). */
export function interopSubjectSpecs(prefix: string): SubjectSpec[] {
  return subjectSpecsFor(prefix).filter((s) => s.topicKey === 'events' || s.topicKey === 'deadLetters' || s.topicKey === 'caepEvents' || s.topicKey === 'ocsfAlerts');
}
