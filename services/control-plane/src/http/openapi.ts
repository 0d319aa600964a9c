import { z } from 'zod';
import type { RouteDef } from './RouteDef.js';
import { componentNames, componentsInDocumentOrder, ErrorBody } from './schemas.js';

/** An OpenAPI 3.1 document (the subset this builder writes). */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description?: string };
  readonly servers?: readonly { readonly url: string }[];
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components: { readonly schemas: Record<string, unknown>; readonly securitySchemes: Record<string, unknown> };
  readonly tags?: readonly { readonly name: string }[];
}

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const uri = (id: string): string => `#/components/schemas/${id}`;

/** Name of Fastify's wildcard parameter (`*`) in the document. */
const WILDCARD = 'path';

/** `/v1/orders/:orderId` → `/v1/orders/{orderId}`; a wildcard `/console/*` → `/console/{path}`. */
export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, `{${WILDCARD}}`);
}

function strip(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

const genericErrors: Record<number, string> = {
  400: 'Invalid request: `error.paths` names the failing fields.',
  401: 'Missing, expired, forged or wrong-audience token.',
  403: 'The token is valid but its roles do not allow this.',
  404: 'Not found.',
  409: 'Conflicts with the current state.',
  422: 'The Idempotency-Key was used before, by the same subject, with a different request.',
  429: 'Rate limited; retry after the `retry-after` header (seconds).',
  503: 'A dependency (Kafka, the registry, PostgreSQL, the policy compiler) is unavailable.',
};

/** What every Server-Sent Events route does, whatever it streams (see createApp and serveEventStream). */
const EVENT_STREAM_NOTE =
  'The stream ends when the token expires, or after the configured maximum duration, with a last `event: stream.end` (no id) whose data says why (`{"reason":"token-expired"|"max-duration"}`); a token subject holds a bounded number of streams at once (one more is answered 429).';

/**
 * The OpenAPI 3.1 document of a route table, generated from the same zod schemas that validate the
 * requests: request bodies in input form, responses in output form, named schemas as components.
 */
export function buildOpenApi(routes: readonly RouteDef[], info: OpenApiDocument['info']): OpenApiDocument {
  const requests = z.registry<{ id: string }>();
  const responses = z.registry<{ id: string }>();
  const bodies = new Set<z.ZodType>();
  for (const r of routes) {
    if (r.body && !requests.has(r.body)) {
      requests.add(r.body, { id: componentNames.get(r.body) ?? `${r.id}Request` });
      bodies.add(r.body);
    }
  }
  for (const [schema, id] of componentsInDocumentOrder()) if (!bodies.has(schema) && !responses.has(schema)) responses.add(schema, { id });
  for (const r of routes) {
    const s = r.success.schema;
    if (s && !responses.has(s)) responses.add(s, { id: `${r.id}Response` });
  }
  const schemas: Record<string, unknown> = {};
  const reqJson = z.toJSONSchema(requests, { io: 'input', uri, unrepresentable: 'any' }) as { schemas: Record<string, Record<string, unknown>> };
  const resJson = z.toJSONSchema(responses, { io: 'output', uri, unrepresentable: 'any' }) as { schemas: Record<string, Record<string, unknown>> };
  for (const [id, s] of Object.entries({ ...resJson.schemas, ...reqJson.schemas })) schemas[id] = strip(s);

  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const r of routes) {
    tags.add(r.tag);
    const parameters = [...parametersOf(r.params, 'path'), ...parametersOf(r.query, 'query'), ...parametersOf(r.headers, 'header')];
    const responseMap: Record<string, unknown> = {};
    const s = r.success;
    const contentType = s.contentType ?? 'application/json';
    const successSchema = s.schema ? ref(requests.get(s.schema)?.id ?? responses.get(s.schema)!.id) : { type: 'string' };
    responseMap[String(s.status)] =
      s.status === 302 ? { description: s.description, headers: { Location: { schema: { type: 'string' } } } } : { description: s.description, content: { [contentType]: { schema: successSchema } } };
    if (r.sameBodyOn) responseMap[String(r.sameBodyOn.status)] = { description: r.sameBodyOn.description, content: { [contentType]: { schema: successSchema } } };
    const errors = new Set<number>(r.errors ?? []);
    if (r.params || r.query || r.body) errors.add(400);
    if (r.roles !== 'public') [401, 403].forEach((c) => errors.add(c));
    // Every route is rate limited: per client address (open routes, and before the token is checked) and per token subject.
    errors.add(429);
    for (const code of [...errors].sort((a, b) => a - b)) {
      responseMap[String(code)] = {
        description: genericErrors[code] ?? 'Error.',
        ...(code === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } } } } : {}),
        ...(code === 401 ? { headers: { 'WWW-Authenticate': { description: 'RFC 6750 Bearer challenge: `Bearer realm="livescope"`, with `error="invalid_token"` and an `error_description` when a token was presented and refused.', schema: { type: 'string' } } } } : {}),
        content: { 'application/problem+json': { schema: ref(componentNames.get(ErrorBody)!) } },
      };
    }
    const description = [r.description, s.contentType === 'text/event-stream' ? EVENT_STREAM_NOTE : undefined].filter(Boolean).join(' ');
    const operation: Record<string, unknown> = {
      operationId: r.id,
      summary: r.summary,
      ...(description ? { description } : {}),
      tags: [r.tag],
      security: r.roles === 'public' ? [] : [{ bearerAuth: [] }],
      'x-livescope-roles': r.roles === 'public' ? [] : [...new Set(['admin', ...r.roles])],
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(requests.get(r.body)!.id) } } } } : {}),
      responses: responseMap,
    };
    const p = openApiPath(r.path);
    paths[p] ??= {};
    paths[p][r.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: { schemas, securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    tags: [...tags].sort().map((name) => ({ name })),
  };
}

/** `idempotency-key` → `Idempotency-Key`: header names are case-insensitive; the document shows them as usually written. */
const headerName = (name: string): string => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): Record<string, unknown>[] {
  if (!schema) return [];
  if (!(schema instanceof z.ZodObject)) throw new Error(`${where} parameters must be a zod object`);
  const out: Record<string, unknown>[] = [];
  const shape: Record<string, z.ZodType> = schema.shape;
  for (const [name, prop] of Object.entries(shape)) {
    const json = strip(z.toJSONSchema(prop, { io: 'input', unrepresentable: 'any' }));
    const { description, ...rest } = json;
    const optional = prop.safeParse(undefined).success;
    out.push({ name: name === '*' ? WILDCARD : where === 'header' ? headerName(name) : name, in: where, required: where === 'path' || !optional, ...(typeof description === 'string' ? { description } : {}), schema: rest });
  }
  return out;
}

/** The control plane's document: the route table with its title and version. */
export function apiDocument(routes: readonly RouteDef[]): OpenApiDocument {
  return buildOpenApi(routes, {
    title: 'livescope control plane',
    version: '1.0.0',
    description: 'Responder orders, identity scope views, explanations, drift alerts and enforcement points of livescope. Every /v1 call carries a bearer JWT; see docs/api.md.',
  });
}
