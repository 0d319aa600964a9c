import { StoreError } from '@livescope/store';
import { TransportError } from '@livescope/transport';
import { ControlPlaneError, type ErrorCode, type FailedComponent } from '../ControlPlaneError.js';

/**
 * The error body every route answers with: an RFC 9457 problem (`application/problem+json`, `Problem`
 * in the OpenAPI document). `code` (an extension member) is the stable code clients switch on, as before.
 */
export interface ProblemJson {
  /** `urn:livescope:problem:<code in kebab case>`: one type per code. */
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** `urn:uuid:<correlation id>`: this occurrence, as the server log names it. */
  readonly instance: string;
  readonly code: string;
  readonly paths?: string[];
  readonly component?: FailedComponent;
  readonly correlationId: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Short, fixed summaries of each code (RFC 9457 `title`: the same for every occurrence). */
export const problemTitles: Readonly<Record<ErrorCode, string>> = {
  INVALID_REQUEST: 'Invalid request',
  UNAUTHENTICATED: 'Authentication required',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency key reused',
  RATE_LIMITED: 'Rate limit exceeded',
  UNAVAILABLE: 'Service unavailable',
  POLICY_COMPILER_UNAVAILABLE: 'Policy compiler unavailable',
  CONFIG: 'Server misconfigured',
  INTERNAL: 'Internal error',
};

/** The problem type URI of a code: `INVALID_REQUEST` → `urn:livescope:problem:invalid-request`. */
export function problemType(code: ErrorCode): string {
  return `urn:livescope:problem:${code.toLowerCase().replace(/_/g, '-')}`;
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
 * The problem document of an error answer. A 4xx details the message (it describes the caller's input,
 * and the failing paths); a 5xx only text written for it: the error's `publicMessage`, or the failing
 * component and its classification — never a dependency's message, which may name hosts, SQL or
 * broker internals. `correlationId` (also the `x-request-id` header and the `instance`) finds the
 * whole error in the log.
 */
export function errorBody(e: ControlPlaneError, correlationId: string): ProblemJson {
  const common = { type: problemType(e.code), title: problemTitles[e.code], status: e.httpStatus, instance: `urn:uuid:${correlationId}`, code: e.code };
  if (e.httpStatus < 500) return { ...common, detail: e.message, ...(e.paths.length ? { paths: [...e.paths] } : {}), correlationId };
  return { ...common, detail: e.publicMessage ?? publicMessageOf(e), ...(e.component ? { component: e.component } : {}), correlationId };
}

/**
 * The `WWW-Authenticate` challenge of a 401 (RFC 6750): `error="invalid_token"` when a token was
 * presented and refused, none when the request carried no credentials at all.
 */
export function bearerChallenge(tokenPresented: boolean, description: string): string {
  const quoted = description.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'");
  return tokenPresented ? `Bearer realm="livescope", error="invalid_token", error_description="${quoted}"` : 'Bearer realm="livescope"';
}

function publicMessageOf(e: ControlPlaneError): string {
  if (e.code === 'UNAVAILABLE' || e.code === 'POLICY_COMPILER_UNAVAILABLE') {
    const what = e.component ? componentName[e.component] : e.code === 'POLICY_COMPILER_UNAVAILABLE' ? componentName['policy-compiler'] : 'a dependency';
    return `${what} unavailable; retry later`;
  }
  return 'internal error';
}
