/** The API's own OpenAPI document, served at /openapi.json. */
export { openApiRoutes, type OpenApiApi } from './routes.js';
