import { apiDocument, type OpenApiDocument } from '../http/openapi.js';
import { apiRoutes, type ApiServices } from './apiRoutes.js';

/**
 * The OpenAPI document without a running control plane (docs/openapi.json): it depends only on the
 * route table, whose handlers are never called here.
 */
export function generatedOpenApi(): OpenApiDocument {
  const unavailable = new Proxy(
    {},
    {
      get: () => () => {
        throw new Error('documentation only');
      },
    },
  );
  const services = new Proxy({} as ApiServices, { get: () => unavailable });
  return apiDocument(apiRoutes(services));
}
