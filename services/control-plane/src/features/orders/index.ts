/** Responder orders: issue, lift, list, and follow what they did. */
export { IdempotencyRepository } from './IdempotencyRepository.js';
export { OrdersRepository, type OrderRow } from './OrdersRepository.js';
export { OrdersService, type OrdersDeps, type OrdersInForce } from './OrdersService.js';
export { orderRoutes, type Answer, type OrdersApi } from './routes.js';
