/** Responder orders: issue, lift, list, and follow what they did. */
export { OrdersRepository, type OrderRow } from './OrdersRepository.js';
export { OrdersService, type OrdersDeps, type OrdersInForce } from './OrdersService.js';
export { orderRoutes, type OrdersApi } from './routes.js';
