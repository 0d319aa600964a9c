import { defaultCommonOptions, withDefaults } from '../common/AdapterOptions.js';
import { notJson, sourced } from '../common/createMapper.js';
import { IdentityAnnouncer } from '../common/IdentityAnnouncer.js';
import { LinearToken } from '../common/LinearToken.js';
import { array, isObject, object, text } from '../common/looseRead.js';
import { announceIdentities } from '../common/Mapped.js';
import { deadLetter, type AdapterContext, type AdapterInput, type RecordAdapter, type SourcedResult, type Step } from '../common/MappingResult.js';
import { mapGcpAuditEntry, type GcpAuditOptions } from './mapGcpAuditEntry.js';

export const defaultGcpAuditOptions: GcpAuditOptions = { ...defaultCommonOptions, enforcerId: 'gcp-iam', defaultTokenTtlMs: 3_600_000 };

export interface GcpAuditState {
  readonly token: LinearToken;
  readonly announcer: IdentityAnnouncer;
}

const MAX_ENTRIES_PER_VALUE = 100_000;

/** A Pub/Sub push body (`{message: {data: <base64 LogEntry>}}`) → the LogEntry, else undefined. */
function fromPubSub(value: unknown): unknown {
  const data = text(object(value, 'message'), 'data');
  if (!data) return undefined;
  try {
    const bin = atob(data);
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))) as unknown;
  } catch {
    return null;
  }
}

/**
 * Google Cloud Audit Logs → livescope events. Accepts LogEntry JSON (a Logging sink to Cloud Storage
 * writes one per line; `gcloud logging read --format json` writes an array), `{"entries": [...]}`
 * (the `entries.list` API) and Pub/Sub push bodies.
 */
export function gcpAuditAdapter(given?: Partial<GcpAuditOptions>): RecordAdapter<GcpAuditState> {
  const options = withDefaults(defaultGcpAuditOptions, given);
  const mapOne = (s: GcpAuditState, value: unknown, raw: string, ctx: AdapterContext): SourcedResult => {
    if (!isObject(value)) return sourced(raw, deadLetter('schema-invalid', 'not a Cloud Audit Logs entry: the record is not a JSON object'));
    return sourced(raw, announceIdentities(mapGcpAuditEntry(value, options, ctx), s.announcer));
  };
  return {
    source: 'gcp-audit',
    initialState: () => ({ token: new LinearToken(), announcer: new IdentityAnnouncer(options.announce, options.owner, options.memoryEntries) }),
    step(state: GcpAuditState, input: AdapterInput, ctx: AdapterContext): Step<GcpAuditState> {
      const s: GcpAuditState = { ...state, token: state.token.consume() };
      if (!input.parsed.ok) return { state: s, results: [notJson(input.raw, input.parsed.error)] };
      const value = input.parsed.value;
      const pushed = fromPubSub(value);
      if (pushed === null) return { state: s, results: [sourced(input.raw, deadLetter('schema-invalid', 'a Pub/Sub push body whose message.data is not base64 JSON'))] };
      if (pushed !== undefined) return { state: s, results: [mapOne(s, pushed, JSON.stringify(pushed), ctx)] };
      const entries = array(value, 'entries');
      if (isObject(value) && entries.length > 0 && !object(value, 'protoPayload')) {
        return { state: s, results: entries.slice(0, MAX_ENTRIES_PER_VALUE).map((e) => mapOne(s, e, JSON.stringify(e), ctx)) };
      }
      return { state: s, results: [mapOne(s, value, input.raw, ctx)] };
    },
    flush: (state: GcpAuditState): Step<GcpAuditState> => ({ state: { ...state, token: state.token.consume() }, results: [] }),
  };
}
