import { adapterFor, type AnyAdapterOptions } from './adapterFor.js';
import { notJson, sourced } from './common/createMapper.js';
import { LinearToken } from './common/LinearToken.js';
import { deadLetter, sourceNames, type AdapterContext, type AdapterInput, type RecordAdapter, type SourcedResult, type SourceName, type Step } from './common/MappingResult.js';
import { detectSource } from './detectSource.js';

/** The auto-detecting adapter's state: one state per family seen so far. */
export interface AutoState {
  readonly token: LinearToken;
  readonly inner: Map<SourceName, { adapter: RecordAdapter<unknown>; state: unknown }>;
  /** Records routed per family (for the summary). */
  readonly counts: Map<SourceName, number>;
}

/**
 * Routes each record to the adapter of the family `detectSource` recognises, keeping each family's
 * state (so Vault request/response pairs still join), and dead-letters records of no known family
 * with the fields it looked for.
 */
export function autoAdapter(options: AnyAdapterOptions = {}): RecordAdapter<AutoState> & { readonly detected: (s: AutoState) => ReadonlyMap<SourceName, number> } {
  const route = (s: AutoState, source: SourceName): { adapter: RecordAdapter<unknown>; state: unknown } => {
    let entry = s.inner.get(source);
    if (!entry) {
      const adapter = adapterFor(source, options);
      entry = { adapter, state: adapter.initialState() };
      s.inner.set(source, entry);
    }
    return entry;
  };
  return {
    source: 'auto',
    detected: (s) => s.counts,
    initialState: () => ({ token: new LinearToken(), inner: new Map(), counts: new Map() }),
    step(state: AutoState, input: AdapterInput, ctx: AdapterContext): Step<AutoState> {
      const s: AutoState = { ...state, token: state.token.consume() };
      const source = detectSource(input);
      if (!source) {
        if (!input.parsed.ok) return { state: s, results: [notJson(input.raw, input.parsed.error)] };
        return { state: s, results: [sourced(input.raw, deadLetter('unsupported', `could not tell the source of the record: it has the fields of none of ${sourceNames.join(', ')} (e.g. eventSource+userIdentity, request.path+type, verb+user, protoPayload, eventType+actor, category/signInEventTypes, a GitHub token issuer)`))] };
      }
      s.counts.set(source, (s.counts.get(source) ?? 0) + 1);
      const entry = route(s, source);
      const step = entry.adapter.step(entry.state, input, ctx);
      entry.state = step.state;
      return { state: s, results: step.results };
    },
    flush(state: AutoState, ctx: AdapterContext): Step<AutoState> {
      const s: AutoState = { ...state, token: state.token.consume() };
      const results: SourcedResult[] = [];
      for (const entry of s.inner.values()) {
        const step = entry.adapter.flush(entry.state, ctx);
        entry.state = step.state;
        results.push(...step.results);
      }
      return { state: s, results };
    },
  };
}
