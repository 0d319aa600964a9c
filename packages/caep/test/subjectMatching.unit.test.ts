import { describe, expect, it } from 'vitest';
import { SubjectIdentifier, subjectsMatch } from '../src/SubjectIdentifier.js';

const S = (v: unknown): SubjectIdentifier => SubjectIdentifier.parse(v);

/** The three examples of SSF 1.0 "Subject Matching", as the specification writes them. */
describe('SSF 1.0 subject matching', () => {
  it('a less restrictive added subject (tenant only) matches an event about tenant and user', () => {
    const added = S({ format: 'complex', tenant: { format: 'opaque', id: 'example-a38h4792-uw2' } });
    const event = S({ format: 'complex', tenant: { format: 'opaque', id: 'example-a38h4792-uw2' }, user: { format: 'email', email: 'jdoe@example.com' } });
    expect(subjectsMatch(added, event)).toBe(true);
  });
  it('a more restrictive added subject (user and device) matches an event about the user', () => {
    const added = S({ format: 'complex', user: { format: 'email', email: 'jdoe@example.com' }, device: { format: 'ip-addresses', 'ip-addresses': ['10.29.37.75'] } });
    const event = S({ format: 'complex', user: { format: 'email', email: 'jdoe@example.com' } });
    expect(subjectsMatch(added, event)).toBe(true);
  });
  it('two complex subjects with different groups do not match', () => {
    const added = S({ format: 'complex', user: { format: 'email', email: 'jdoe@example.com' }, group: { format: 'did', url: 'did:example:123456' } });
    const event = S({ format: 'complex', user: { format: 'email', email: 'jdoe@example.com' }, group: { format: 'did', url: 'did:example:9999999' } });
    expect(subjectsMatch(added, event)).toBe(false);
  });
  it('simple subjects match when identical; a simple subject matches a complex one that has it as a member', () => {
    const user = S({ format: 'iss_sub', iss: 'https://tx', sub: 'vault:approle/deployer' });
    expect(subjectsMatch(user, S({ format: 'iss_sub', iss: 'https://tx', sub: 'vault:approle/deployer' }))).toBe(true);
    expect(subjectsMatch(user, S({ format: 'iss_sub', iss: 'https://tx', sub: 'other' }))).toBe(false);
    expect(subjectsMatch(user, S({ format: 'complex', user: { format: 'iss_sub', iss: 'https://tx', sub: 'vault:approle/deployer' }, session: { format: 'opaque', id: 's1' } }))).toBe(true);
  });
});
