import { apiDocument, type OpenApiDocument } from './openapi.js';
import { apiRoutes, type ApiServices } from './routes.js';

/**
 * The OpenAPI document without a running control plane (docs/openapi.json): it depends only on the
 * route table, whose handlers are never called here.
 */
export function generatedOpenApi(): OpenApiDocument {
  const unavailable = new Proxy({} as ApiServices, {
    get: () => () => {
      throw new Error('documentation only');
    },
  });
  return apiDocument(apiRoutes(unavailable));
}
