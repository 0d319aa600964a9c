import type { Logger } from '@livescope/transport';
import type { CheckResult, OperationsApi, Readiness } from './routes.js';

/** A dependency /readyz checks. */
export type Dependency = 'kafka' | 'registry' | 'postgres';

export interface OperationsDeps {
  /** One probe per dependency: resolves when it answers (the process owns the connections). */
  readonly probes: Readonly<Record<Dependency, () => Promise<unknown>>>;
  /** The consumers' health: `ok`, or what is wrong with them (logged, never answered). */
  readonly consumers: () => string;
  /** A probe that has not answered after this long counts as failed. Default 3000 ms. */
  readonly probeTimeoutMs?: number;
  /** Refreshes gauges that are computed, not counted, right before a scrape. */
  readonly beforeScrape: () => Promise<void>;
  readonly renderMetrics: () => Promise<{ contentType: string; text: string }>;
  readonly logger: Logger;
}

const DEFAULT_PROBE_TIMEOUT_MS = 3000;

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });

/**
 * The operational probes: readiness of the dependencies and the Prometheus text. Readiness answers
 * each dependency as `ok` or `unavailable` only — a probe's error may name hosts, ports, SQL or
 * broker internals, so it is logged whole with the request's correlation id, which the answer carries.
 */
export class OperationsService implements OperationsApi {
  constructor(private readonly d: OperationsDeps) {}

  async readiness(correlationId: string): Promise<Readiness> {
    const log = this.d.logger.child({ component: 'readiness', reqId: correlationId });
    const timeoutMs = this.d.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    const probe = async (dependency: Dependency): Promise<CheckResult> => {
      try {
        await withTimeout(this.d.probes[dependency](), timeoutMs, dependency);
        return 'ok';
      } catch (err) {
        log.warn({ dependency, err }, 'readiness check failed');
        return 'unavailable';
      }
    };
    const [kafka, registry, postgres] = await Promise.all([probe('kafka'), probe('registry'), probe('postgres')]);
    const health = this.d.consumers();
    const consumers: CheckResult = health === 'ok' ? 'ok' : 'unavailable';
    if (consumers !== 'ok') log.warn({ dependency: 'consumers', health }, 'readiness check failed');
    const ready = kafka === 'ok' && registry === 'ok' && postgres === 'ok' && consumers === 'ok';
    return { ready, checks: { kafka, registry, postgres, consumers }, ...(ready ? {} : { correlationId }) };
  }

  async metricsText(): Promise<{ contentType: string; text: string }> {
    await this.d.beforeScrape().catch((e: unknown) => this.d.logger.warn({ err: e }, 'enforcer gauges not refreshed'));
    return this.d.renderMetrics();
  }
}
