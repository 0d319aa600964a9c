import { AdapterError } from './AdapterError.js';

/**
 * Guards the linear use of reducer states: each state carries a token; `step` consumes it and the
 * successor gets a fresh one. Stepping a state twice is a programming error and fails loudly instead
 * of silently sharing the (in-place updated) bounded maps between two histories.
 */
export class LinearToken {
  private used = false;

  consume(): LinearToken {
    if (this.used) throw new AdapterError('STATE_REUSED', 'an adapter state was stepped twice; use the state returned by the previous step');
    this.used = true;
    return new LinearToken();
  }
}
