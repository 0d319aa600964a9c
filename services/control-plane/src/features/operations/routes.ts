import { route, TextBody, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** One check of /readyz: the component answers, or is unavailable (why is in the log, never in the answer). */
export type CheckResult = 'ok' | 'unavailable';

/** Readiness of the process's dependencies, as GET /readyz answers it. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: { readonly kafka: CheckResult; readonly registry: CheckResult; readonly postgres: CheckResult; readonly consumers: CheckResult };
  /** When not ready: the id under which the failures are logged. */
  readonly correlationId?: string;
}

/** What the operational routes need. */
export interface OperationsApi {
  /** `correlationId` names the log lines of the failing checks. */
  readiness(correlationId: string): Promise<Readiness>;
  metricsText(): Promise<{ contentType: string; text: string }>;
}

/** Routes of the operational probes: liveness, readiness, Prometheus metrics (public). */
export function operationsRoutes(svc: OperationsApi): RouteDef[] {
  return [
    route({
      id: 'health',
      method: 'GET',
      path: '/healthz',
      tag: 'operations',
      summary: 'Liveness: the process answers',
      roles: 'public',
      success: { status: 200, description: 'Alive.', schema: S.Health },
      handler: () => Promise.resolve({ status: 'ok' }),
    }),
    route({
      id: 'ready',
      method: 'GET',
      path: '/readyz',
      tag: 'operations',
      summary: 'Readiness: Kafka, the schema registry and PostgreSQL answer, and the consumers run',
      roles: 'public',
      success: { status: 200, description: 'Ready.', schema: S.Readiness },
      sameBodyOn: { status: 503, description: 'Not ready: `checks` says which dependency is `unavailable`; the errors are logged under `correlationId`.' },
      handler: async ({ reply, request }) => {
        const r = await svc.readiness(request.id);
        if (!r.ready) void reply.code(503);
        return r;
      },
    }),
    route({
      id: 'metrics',
      method: 'GET',
      path: '/metrics',
      tag: 'operations',
      summary: 'Prometheus metrics',
      roles: 'public',
      success: { status: 200, description: 'Prometheus text exposition.', contentType: 'text/plain' },
      handler: async () => {
        const m = await svc.metricsText();
        return new TextBody(m.contentType, m.text);
      },
    }),
  ];
}
