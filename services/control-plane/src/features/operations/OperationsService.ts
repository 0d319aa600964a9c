import type { Logger } from '@livescope/transport';
import type { OperationsApi, Readiness } from './routes.js';

export interface OperationsDeps {
  /** Checks Kafka, the schema registry, PostgreSQL and the consumers (the process owns them). */
  readonly readiness: () => Promise<Readiness>;
  /** Refreshes gauges that are computed, not counted, right before a scrape. */
  readonly beforeScrape: () => Promise<void>;
  readonly renderMetrics: () => Promise<{ contentType: string; text: string }>;
  readonly logger: Logger;
}

/** The operational probes: readiness of the dependencies and the Prometheus text. */
export class OperationsService implements OperationsApi {
  constructor(private readonly d: OperationsDeps) {}

  readiness(): Promise<Readiness> {
    return this.d.readiness();
  }

  async metricsText(): Promise<{ contentType: string; text: string }> {
    await this.d.beforeScrape().catch((e: unknown) => this.d.logger.warn({ err: e }, 'enforcer gauges not refreshed'));
    return this.d.renderMetrics();
  }
}
