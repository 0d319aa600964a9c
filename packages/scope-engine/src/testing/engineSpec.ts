import type { LivescopeEvent } from '@livescope/contracts';
import { emptyOutput, type EngineOutput, type HandleResult } from '../EngineOutput.js';
import type { IdentityState } from '../IdentityState.js';
import type { EngineDeps, ProducerVerdict, ScopeEngine } from '../ScopeEngine.js';
import { permitAllPolicy, type ScopePolicy } from '../ScopePolicy.js';
import { run, TRUSTED } from './fixtures.js';

/** An event as sent: at broker time `at` (default its own time) from `producer` (default trusted). */
export interface Sent {
  readonly event: LivescopeEvent;
  readonly at?: number;
  readonly producer?: ProducerVerdict;
}
/** The worker's timer firing at `at`. */
export interface Tick {
  readonly tick: number;
}

export const tick = (at: number): Tick => ({ tick: at });
export const from = (producer: ProducerVerdict, event: LivescopeEvent, at?: number): Sent => ({ event, producer, ...(at !== undefined ? { at } : {}) });

export interface Outcome {
  readonly engine: ScopeEngine;
  /** How the `when` event was handled (undefined for a tick). */
  readonly result: HandleResult | undefined;
  /** The outputs of the `when` step only. */
  readonly out: EngineOutput;
  /** An identity's state as it was before the `when` step (the same object when the step left it alone). */
  before(id: string): IdentityState | undefined;
  /** `action resource` pairs in an identity's scope after the step, sessions appended as `@s1,s2` when bound. */
  scope(id: string): string[];
}

const isTick = (x: Sent | Tick | LivescopeEvent): x is Tick => 'tick' in x;
const isSent = (x: Sent | LivescopeEvent): x is Sent => 'event' in x && !('specversion' in x);

/**
 * Engine tests as one expression (Emmett's decider specification): given a history of events, when
 * one more event (or a tick) arrives, then these outputs and this state.
 *
 *   spec().given(created, granted).when(from(UNSIGNED, lowerRisk)).then((o) => expect(o.result)…)
 */
export function spec(policy: ScopePolicy = permitAllPolicy, deps: Partial<EngineDeps> = {}) {
  return {
    given(...history: (Sent | LivescopeEvent | Tick)[]) {
      return {
        when(input: Sent | LivescopeEvent | Tick) {
          return {
            then(check: (o: Outcome) => void): Outcome {
              const r = run(policy, deps);
              const apply = (x: Sent | LivescopeEvent | Tick): HandleResult | undefined => {
                if (isTick(x)) {
                  r.tick(x.tick);
                  return undefined;
                }
                const s: Sent = isSent(x) ? x : { event: x };
                return r.send(s.event, s.at, s.producer ?? TRUSTED);
              };
              for (const h of history) apply(h);
              r.out = emptyOutput();
              const previous = new Map([...r.engine.allIdentities()].map((i) => [i.id as string, i]));
              const result = apply(input);
              const outcome: Outcome = {
                engine: r.engine,
                result,
                out: r.out,
                before: (id) => previous.get(id),
                scope: (id) => (r.engine.identity(id)?.scope ?? []).map((e) => `${e.perm.action} ${e.perm.resource}${e.sessions ? `@${e.sessions.join(',')}` : ''}`),
              };
              check(outcome);
              return outcome;
            },
          };
        },
      };
    },
  };
}
