import { route, type RouteDef } from '../../http/RouteDef.js';

/** What the document's route needs. */
export interface OpenApiApi {
  /** The OpenAPI document of the running API. */
  openApi(): unknown;
}

/** The route serving this API's OpenAPI document (public). */
export function openApiRoutes(svc: OpenApiApi): RouteDef[] {
  return [
    route({
      id: 'openapi',
      method: 'GET',
      path: '/openapi.json',
      tag: 'operations',
      summary: 'This document (OpenAPI 3.1, generated from the request and response schemas)',
      roles: 'public',
      success: { status: 200, description: 'The OpenAPI document.', contentType: 'application/json' },
      handler: () => Promise.resolve(svc.openApi()),
    }),
  ];
}
