import { defaultCommonOptions, withDefaults } from '../common/AdapterOptions.js';
import { notJson, sourced } from '../common/createMapper.js';
import { IdentityAnnouncer } from '../common/IdentityAnnouncer.js';
import { LinearToken } from '../common/LinearToken.js';
import { array, isObject, object } from '../common/looseRead.js';
import { announceIdentities } from '../common/Mapped.js';
import { deadLetter, type AdapterContext, type AdapterInput, type RecordAdapter, type SourcedResult, type Step } from '../common/MappingResult.js';
import { mapEntraSignIn, type EntraOptions } from './mapEntraSignIn.js';

export const defaultEntraOptions: EntraOptions = { ...defaultCommonOptions, enforcerId: 'entra', servicePrincipalTokenTtlMs: 3_600_000, managedIdentityTokenTtlMs: 24 * 3_600_000 };

export interface EntraState {
  readonly token: LinearToken;
  readonly announcer: IdentityAnnouncer;
}

const MAX_RECORDS_PER_VALUE = 100_000;

/**
 * Microsoft Entra ID sign-in logs → livescope events. Accepts one record per line (storage-account
 * exports), Event Hubs bodies (`{"records": [...]}`), Microsoft Graph pages (`{"value": [...]}`) and
 * arrays of any of them.
 */
export function entraAdapter(given?: Partial<EntraOptions>): RecordAdapter<EntraState> {
  const options = withDefaults(defaultEntraOptions, given);
  const mapOne = (s: EntraState, value: unknown, raw: string, ctx: AdapterContext): SourcedResult => {
    if (!isObject(value)) return sourced(raw, deadLetter('schema-invalid', 'not an Entra sign-in record: the record is not a JSON object'));
    return sourced(raw, announceIdentities(mapEntraSignIn(value, options, ctx), s.announcer));
  };
  return {
    source: 'entra',
    initialState: () => ({ token: new LinearToken(), announcer: new IdentityAnnouncer(options.announce, options.owner, options.memoryEntries) }),
    step(state: EntraState, input: AdapterInput, ctx: AdapterContext): Step<EntraState> {
      const s: EntraState = { ...state, token: state.token.consume() };
      if (!input.parsed.ok) return { state: s, results: [notJson(input.raw, input.parsed.error)] };
      const value = input.parsed.value;
      const batch = isObject(value) && !object(value, 'properties') ? [...array(value, 'records'), ...array(value, 'value')] : [];
      if (batch.length > 0) return { state: s, results: batch.slice(0, MAX_RECORDS_PER_VALUE).map((r) => mapOne(s, r, JSON.stringify(r), ctx)) };
      return { state: s, results: [mapOne(s, value, input.raw, ctx)] };
    },
    flush: (state: EntraState): Step<EntraState> => ({ state: { ...state, token: state.token.consume() }, results: [] }),
  };
}
