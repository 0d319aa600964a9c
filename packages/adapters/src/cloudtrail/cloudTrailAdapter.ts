import { defaultCommonOptions, withDefaults } from '../common/AdapterOptions.js';
import { BoundedMap } from '../common/BoundedMap.js';
import { notJson, sourced } from '../common/createMapper.js';
import { IdentityAnnouncer } from '../common/IdentityAnnouncer.js';
import { LinearToken } from '../common/LinearToken.js';
import { announceIdentities } from '../common/Mapped.js';
import type { AdapterInput, RecordAdapter, SourcedResult, Step } from '../common/MappingResult.js';
import { invalidRecord } from '../common/zodIssues.js';
import { CloudTrailEvent } from './CloudTrailEvent.js';
import { cloudTrailUnsupported, mapCloudTrailEvent, type CloudTrailOptions } from './mapCloudTrailEvent.js';

export const defaultCloudTrailOptions: CloudTrailOptions = { ...defaultCommonOptions, enforcerId: 'aws-iam', defaultSessionTtlMs: 12 * 3_600_000, implicitSessions: true };

export interface CloudTrailState {
  readonly token: LinearToken;
  readonly sessions: BoundedMap<string, true>;
  readonly announcer: IdentityAnnouncer;
}

const MAX_RECORDS_PER_VALUE = 100_000;

/**
 * AWS CloudTrail → livescope events. Accepts single events, `{"Records": [...]}` log files (the
 * splitter usually splits those already) and EventBridge envelopes (`detail` holds the event).
 */
export function cloudTrailAdapter(given?: Partial<CloudTrailOptions>): RecordAdapter<CloudTrailState> {
  const options = withDefaults(defaultCloudTrailOptions, given);
  const mapOne = (s: CloudTrailState, value: unknown, raw: string): SourcedResult => {
    const v = value as { detail?: unknown; 'detail-type'?: unknown } | null;
    const event = v && typeof v === 'object' && typeof v['detail-type'] === 'string' && v.detail ? v.detail : value;
    const parsed = CloudTrailEvent.safeParse(event);
    if (!parsed.success) return sourced(raw, invalidRecord('not a CloudTrail event', parsed.error));
    const m = mapCloudTrailEvent(parsed.data, { sessionKnown: (id) => s.sessions.has(id) }, options);
    for (const id of m.sessions) s.sessions.set(id, true);
    return sourced(raw, announceIdentities(m.mapped, s.announcer));
  };
  return {
    source: 'cloudtrail',
    initialState: () => ({ token: new LinearToken(), sessions: new BoundedMap(options.memoryEntries), announcer: new IdentityAnnouncer(options.announce, options.owner, options.memoryEntries) }),
    step(state: CloudTrailState, input: AdapterInput): Step<CloudTrailState> {
      const s: CloudTrailState = { ...state, token: state.token.consume() };
      if (!input.parsed.ok) return { state: s, results: [notJson(input.raw, input.parsed.error)] };
      const value = input.parsed.value as { Records?: unknown } | null;
      if (value && typeof value === 'object' && 'Records' in value) {
        if (!Array.isArray(value.Records) || value.Records.length > MAX_RECORDS_PER_VALUE) return { state: s, results: [sourced(input.raw, cloudTrailUnsupported('Records must be an array of at most 100000 events'))] };
        return { state: s, results: value.Records.map((r) => mapOne(s, r, JSON.stringify(r))) };
      }
      return { state: s, results: [mapOne(s, input.parsed.value, input.raw)] };
    },
    flush: (state: CloudTrailState): Step<CloudTrailState> => ({ state: { ...state, token: state.token.consume() }, results: [] }),
  };
}
