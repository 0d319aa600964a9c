/** The fleet summary: census, orders in force, enforcement points, alerts, activity. */
export { FleetRepository } from './FleetRepository.js';
export { FleetService, type FleetDeps } from './FleetService.js';
export { fleetRoutes, type FleetApi } from './routes.js';
