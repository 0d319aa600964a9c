import { StoreError } from '@livescope/store';
import { TransportError } from '@livescope/transport';
import { ControlPlaneError, type FailedComponent } from '../ControlPlaneError.js';

/** The error body every route answers with (`Error` in the OpenAPI document). */
export interface ErrorBodyJson {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly paths?: string[];
    readonly component?: FailedComponent;
    readonly correlationId: string;
  };
}

const componentName: Readonly<Record<FailedComponent, string>> = {
  kafka: 'Kafka',
  postgres: 'PostgreSQL',
  registry: 'the schema registry',
  'policy-compiler': 'the policy compiler',
};

/**
 * What a thrown error becomes as an answer. A ControlPlaneError stays itself; a 4xx raised by
 * Fastify (a body that is not JSON, too large) keeps its status; a transient error of a dependency
 * (a StoreError, a TransportError, a kafkajs error) becomes 503 UNAVAILABLE naming the component;
 * anything else is a 500. The original stays the `cause`, for the log.
 */
export function controlPlaneErrorOf(err: unknown): ControlPlaneError {
  if (ControlPlaneError.is(err)) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const status = (e as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new ControlPlaneError(status === 404 ? 'NOT_FOUND' : status === 429 ? 'RATE_LIMITED' : 'INVALID_REQUEST', e.message, { cause: e });
  const component = failedComponentOf(e);
  if (component) return new ControlPlaneError('UNAVAILABLE', `${component} failed: ${e.message}`, { cause: e, component });
  return new ControlPlaneError('INTERNAL', `unhandled error: ${e.message}`, { cause: e });
}

/** The dependency a transient error comes from, if it says so by its class (never by its message). */
function failedComponentOf(e: Error): FailedComponent | undefined {
  if (StoreError.is(e)) return e.classification === 'transient' ? 'postgres' : undefined;
  if (TransportError.is(e)) return e.classification === 'transient' ? (e.code.startsWith('REGISTRY') ? 'registry' : 'kafka') : undefined;
  // kafkajs names every error class KafkaJS…; retriable ones say so.
  if (e.name.startsWith('KafkaJS') && (e as { retriable?: unknown }).retriable === true) return 'kafka';
  return undefined;
}

/**
 * The body of an error answer. A 4xx shows the message (it describes the caller's input, and the
 * failing paths); a 5xx shows only text written for it: the error's `publicMessage`, or the failing
 * component and its classification — never a dependency's message, which may name hosts, SQL or
 * broker internals. `correlationId` (also the `x-request-id` header) finds the whole error in the log.
 */
export function errorBody(e: ControlPlaneError, correlationId: string): ErrorBodyJson {
  if (e.httpStatus < 500) return { error: { code: e.code, message: e.message, ...(e.paths.length ? { paths: [...e.paths] } : {}), correlationId } };
  return { error: { code: e.code, message: e.publicMessage ?? publicMessageOf(e), ...(e.component ? { component: e.component } : {}), correlationId } };
}

function publicMessageOf(e: ControlPlaneError): string {
  if (e.code === 'UNAVAILABLE' || e.code === 'POLICY_COMPILER_UNAVAILABLE') {
    const what = e.component ? componentName[e.component] : e.code === 'POLICY_COMPILER_UNAVAILABLE' ? componentName['policy-compiler'] : 'a dependency';
    return `${what} unavailable; retry later`;
  }
  return 'internal error';
}
