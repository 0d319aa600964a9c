import type { Globals } from '@livescope/scope-engine';
import type { ActiveOrderView } from './schemas.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Orders in force across partitions. Every partition holds the same org-wide state once its worker
 * processed the broadcast; `holding` says how many do. Expired orders are left out.
 */
export function activeOrders(partitions: readonly { readonly globals: Globals | null }[], nowMs: number): ActiveOrderView[] {
  const byId = new Map<string, { view: ActiveOrderView; holding: number }>();
  for (const p of partitions) {
    if (!p.globals) continue;
    for (const o of p.globals.orders.values()) {
      if (o.expiresAt !== undefined && o.expiresAt <= nowMs) continue;
      const seen = byId.get(o.orderId);
      if (seen) {
        seen.holding++;
        continue;
      }
      byId.set(o.orderId, {
        holding: 1,
        view: { orderId: o.orderId, kind: o.kind, target: o.target, actions: [...o.actions], issuedAt: iso(o.issuedAt), expiresAt: o.expiresAt === undefined ? null : iso(o.expiresAt), actor: o.actor, reason: o.reason, partitions: { holding: 0, total: partitions.length } },
      });
    }
  }
  return [...byId.values()].map(({ view, holding }) => ({ ...view, partitions: { holding, total: partitions.length } })).sort((a, b) => (a.issuedAt < b.issuedAt ? 1 : a.issuedAt > b.issuedAt ? -1 : a.orderId.localeCompare(b.orderId)));
}
