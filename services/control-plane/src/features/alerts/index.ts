/** Drift alerts: stored from the alerts topic, paged, streamed, acknowledged. */
export { alertSink } from './alertSink.js';
export { AlertsRepository } from './AlertsRepository.js';
export { AlertsService, type AlertCounts, type AlertsDeps } from './AlertsService.js';
export { alertRoutes, type AlertsApi } from './routes.js';
