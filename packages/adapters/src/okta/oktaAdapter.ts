import { defaultCommonOptions, withDefaults } from '../common/AdapterOptions.js';
import { notJson, sourced } from '../common/createMapper.js';
import { IdentityAnnouncer } from '../common/IdentityAnnouncer.js';
import { LinearToken } from '../common/LinearToken.js';
import { announceIdentities } from '../common/Mapped.js';
import type { AdapterInput, RecordAdapter, Step } from '../common/MappingResult.js';
import { invalidRecord } from '../common/zodIssues.js';
import { mapOktaEvent, type OktaOptions } from './mapOktaEvent.js';
import { OktaLogEvent } from './OktaLogEvent.js';

export const defaultOktaOptions: OktaOptions = { ...defaultCommonOptions, enforcerId: 'okta', defaultTokenTtlMs: 3_600_000 };

export interface OktaState {
  readonly token: LinearToken;
  readonly announcer: IdentityAnnouncer;
}

/** Okta System Log (LogEvent JSON, one per line or the API's JSON array) → livescope events. */
export function oktaAdapter(given?: Partial<OktaOptions>): RecordAdapter<OktaState> {
  const options = withDefaults(defaultOktaOptions, given);
  return {
    source: 'okta',
    initialState: () => ({ token: new LinearToken(), announcer: new IdentityAnnouncer(options.announce, options.owner, options.memoryEntries) }),
    step(state: OktaState, input: AdapterInput): Step<OktaState> {
      const s: OktaState = { ...state, token: state.token.consume() };
      if (!input.parsed.ok) return { state: s, results: [notJson(input.raw, input.parsed.error)] };
      const parsed = OktaLogEvent.safeParse(input.parsed.value);
      if (!parsed.success) return { state: s, results: [sourced(input.raw, invalidRecord('not an Okta System Log event', parsed.error))] };
      return { state: s, results: [sourced(input.raw, announceIdentities(mapOktaEvent(parsed.data, options), s.announcer))] };
    },
    flush: (state: OktaState): Step<OktaState> => ({ state: { ...state, token: state.token.consume() }, results: [] }),
  };
}
