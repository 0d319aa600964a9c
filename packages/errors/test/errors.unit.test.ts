import { describe, expect, it } from 'vitest';
import { backoffDelay, classify, classifySqlState, DeadlineError, LivescopeError, markErrorClass, retry, sleep, withDeadline } from '../src/index.js';

class FooError extends LivescopeError<'FOO_BAD' | 'FOO_DOWN'> {}
markErrorClass(FooError, 'FooError');
class BarError extends LivescopeError<'BAR'> {}
markErrorClass(BarError, 'BarError');

/** A copy of FooError as a duplicate install would define it: a different class object, the same name. */
function duplicateFooClass(): typeof FooError {
  class FooErrorCopy extends LivescopeError<'FOO_BAD' | 'FOO_DOWN'> {}
  markErrorClass(FooErrorCopy, 'FooError');
  return FooErrorCopy;
}

const kafkaError = (name: string, fields: Record<string, unknown>): Error => Object.assign(new Error('kafka'), { name, ...fields });

describe('LivescopeError and markErrorClass', () => {
  it('keeps code, classification, context and cause as own fields', () => {
    const cause = new Error('root');
    const e = new FooError('FOO_BAD', 'poison', 'bad input', { cause, context: { partition: 3, offset: '42' } });
    expect(e).toMatchObject({ name: 'FooError', code: 'FOO_BAD', classification: 'poison', context: { partition: 3, offset: '42' }, message: 'bad input' });
    expect(e.cause).toBe(cause);
    expect(Object.keys(e)).toEqual(expect.arrayContaining(['code', 'classification', 'context']));
  });

  it('instanceof and is() work across duplicate installs and do not confuse classes', () => {
    const Copy = duplicateFooClass();
    const fromCopy = new Copy('FOO_DOWN', 'transient', 'down');
    expect(fromCopy instanceof FooError).toBe(true);
    expect(FooError.is(fromCopy)).toBe(true);
    expect(LivescopeError.is(fromCopy)).toBe(true);
    expect(BarError.is(fromCopy)).toBe(false);
    expect(FooError.is(new BarError('BAR', 'fatal', 'x'))).toBe(false);
    expect(FooError.is(new Error('plain'))).toBe(false);
    expect(FooError.is(null)).toBe(false);
    expect(FooError.is('FooError')).toBe(false);
  });
});

describe('classify', () => {
  it('reads livescope classifications', () => {
    for (const c of ['transient', 'poison', 'reassigned', 'fatal'] as const) expect(classify(new FooError('FOO_BAD', c, 'x'))).toBe(c);
  });

  it('reads kafkajs retriable flags and broker error types, never messages', () => {
    expect(classify(kafkaError('KafkaJSConnectionError', { retriable: true }))).toBe('transient');
    expect(classify(kafkaError('KafkaJSProtocolError', { retriable: false, type: 'MESSAGE_TOO_LARGE' }))).toBe('poison');
    expect(classify(kafkaError('KafkaJSProtocolError', { retriable: false, type: 'TOPIC_AUTHORIZATION_FAILED' }))).toBe('fatal');
    expect(classify(kafkaError('KafkaJSProtocolError', { retriable: true, type: 'NOT_LEADER_OR_FOLLOWER' }))).toBe('transient');
    // A message that mentions KafkaJS or ECONNREFUSED does not make an error transient.
    expect(classify(new Error('KafkaJS ECONNREFUSED Connection error Broker not connected'))).toBe('fatal');
    expect(classify(kafkaError('KafkaJSNonRetriableError', { retriable: false }))).toBe('fatal');
  });

  it('classifies kafkajs retrier wrappers by what they wrap', () => {
    const tooLarge = kafkaError('KafkaJSProtocolError', { retriable: false, type: 'MESSAGE_TOO_LARGE' });
    expect(classify(kafkaError('KafkaJSNonRetriableError', { retriable: false, cause: tooLarge }))).toBe('poison');
    const conn = kafkaError('KafkaJSConnectionError', { retriable: true });
    expect(classify(kafkaError('KafkaJSNumberOfRetriesExceeded', { retriable: false, cause: conn }))).toBe('transient');
    expect(classify(kafkaError('KafkaJSNonRetriableError', { retriable: false, cause: new TypeError('x is undefined') }))).toBe('fatal');
  });

  it('classifies PostgreSQL errors by SQLSTATE', () => {
    const pg = (code: string): Error => Object.assign(new Error('pg'), { code, severity: 'ERROR' });
    expect(classify(pg('57P01'))).toBe('transient');
    expect(classify(pg('08006'))).toBe('transient');
    expect(classify(pg('40P01'))).toBe('transient');
    expect(classify(pg('22P05'))).toBe('poison');
    expect(classify(pg('54000'))).toBe('poison');
    expect(classify(pg('42P01'))).toBe('fatal');
    expect(classifySqlState('53300')).toBe('transient');
    // A 5-character code without a severity is not a server error.
    expect(classify(Object.assign(new Error('x'), { code: '57P01' }))).toBe('fatal');
  });

  it('classifies system errors and transient causes', () => {
    expect(classify(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe('transient');
    expect(classify(new TypeError('fetch failed', { cause: Object.assign(new Error('c'), { code: 'ECONNRESET' }) }))).toBe('transient');
    expect(classify(new TypeError('boom'))).toBe('fatal');
    expect(classify(undefined)).toBe('fatal');
    expect(classify('a string')).toBe('fatal');
    const loop: Record<string, unknown> = { name: 'Error' };
    loop.cause = { cause: loop };
    expect(classify(loop)).toBe('fatal');
  });
});

describe('retry', () => {
  const noSleep = { sleep: () => Promise.resolve() };

  it('retries transient errors until the step succeeds', async () => {
    let calls = 0;
    const delays: number[] = [];
    const r = await retry(
      () => {
        calls++;
        if (calls < 4) throw new FooError('FOO_DOWN', 'transient', 'down');
        return Promise.resolve('ok');
      },
      { ...noSleep, onRetry: (_e, _a, d) => delays.push(d), random: () => 0.5 },
    );
    expect(r).toBe('ok');
    expect(calls).toBe(4);
    expect(delays).toEqual([75, 150, 300]);
  });

  it('never retries poison or fatal errors', async () => {
    let calls = 0;
    const step = (): Promise<never> => {
      calls++;
      return Promise.reject(new FooError('FOO_BAD', 'poison', 'bad'));
    };
    await expect(retry(step, noSleep)).rejects.toMatchObject({ code: 'FOO_BAD' });
    expect(calls).toBe(1);
  });

  it('gives up when told to stop, after maxAttempts, or past its timeout', async () => {
    const down = (): Promise<never> => Promise.reject(new FooError('FOO_DOWN', 'transient', 'down'));
    await expect(retry(down, { ...noSleep, shouldStop: () => true })).rejects.toMatchObject({ code: 'FOO_DOWN' });
    let n = 0;
    await expect(
      retry(() => (n++, down()), { ...noSleep, maxAttempts: 3 }),
    ).rejects.toMatchObject({ code: 'FOO_DOWN' });
    expect(n).toBe(3);
    await expect(retry(down, { ...noSleep, timeoutMs: 0 })).rejects.toMatchObject({ code: 'FOO_DOWN' });
  });

  it('jitters between half and the whole nominal delay, capped', () => {
    expect(backoffDelay(1, 100, 5000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 5000, () => 1)).toBe(100);
    expect(backoffDelay(30, 100, 5000, () => 1)).toBe(5000);
  });
});

describe('sleep', () => {
  it('waits, and ends early (resolving, never rejecting) when its signal aborts, before or during the wait', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    const before = new AbortController();
    before.abort();
    await expect(sleep(3_600_000, before.signal)).resolves.toBeUndefined();
    const during = new AbortController();
    const waiting = sleep(3_600_000, during.signal);
    during.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe('withDeadline', () => {
  it('rejects a step that never settles, naming the step in progress at expiry', async () => {
    let step = 'connecting';
    const never = new Promise<never>(() => undefined);
    const result = withDeadline(never, 30, () => `start-up (step: ${step})`);
    step = 'joining the group';
    const e = await result.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DeadlineError);
    expect(e).toMatchObject({ code: 'DEADLINE_EXCEEDED', classification: 'fatal', message: 'start-up (step: joining the group) did not finish within 30 ms' });
    expect(classify(e)).toBe('fatal');
  });

  it('passes the result or the error of a step that settles in time, and can classify expiry as transient', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, () => 'x')).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('boom')), 1000, () => 'x')).rejects.toThrow('boom');
    const e = await withDeadline(new Promise(() => undefined), 10, () => 'x', 'transient').catch((x: unknown) => x);
    expect(classify(e)).toBe('transient');
  });
});
