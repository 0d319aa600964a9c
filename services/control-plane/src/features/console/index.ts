/** The web console: its built page and assets, served same-origin with the API. */
export { ConsoleAssets, type ConsoleFile } from './ConsoleAssets.js';
export { ConsoleService, type ConsoleAnswer } from './ConsoleService.js';
export { consoleRoutes, type ConsoleApi } from './routes.js';
