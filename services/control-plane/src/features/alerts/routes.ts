import type { z } from 'zod';
import { access, type Principal } from '../../auth/roles.js';
import type { EventStreamSource } from '../../http/EventStream.js';
import { EventStreamBody, route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the alerts routes need. */
export interface AlertsApi {
  alerts(q: z.infer<typeof S.AlertsQuery>): Promise<z.input<typeof S.AlertsList>>;
  /** The stream after `lastEventId` (an alert id), or from now. */
  streamAlerts(q: z.infer<typeof S.AlertStreamQuery>, lastEventId: string | undefined): Promise<EventStreamSource>;
  acknowledgeAlert(actor: Principal, id: string, note: string | undefined): Promise<z.input<typeof S.AlertAck>>;
}

/** Routes of the alerts feature. */
export function alertRoutes(svc: AlertsApi): RouteDef[] {
  return [
    route({
      id: 'listAlerts',
      method: 'GET',
      path: '/v1/alerts',
      tag: 'alerts',
      summary: 'Drift alerts, newest first',
      roles: access.alerts,
      query: S.AlertsQuery,
      success: { status: 200, description: 'A page of alerts.', schema: S.AlertsList },
      handler: ({ query }) => svc.alerts(query),
    }),
    route({
      id: 'streamAlerts',
      method: 'GET',
      path: '/v1/alerts/stream',
      tag: 'alerts',
      summary: 'Follow drift alerts live (Server-Sent Events; resume with Last-Event-ID)',
      description: 'Each event is `event: drift.alert`, `id: <alert id>`, `data: <Alert JSON>`. The stream closes after the configured maximum duration; clients reconnect with Last-Event-ID and miss nothing.',
      roles: access.alerts,
      query: S.AlertStreamQuery,
      success: { status: 200, description: 'An event stream of Alert objects.', contentType: 'text/event-stream' },
      handler: async ({ query, request }) => {
        const header = request.headers['last-event-id'];
        const last = typeof header === 'string' && /^\d{1,19}$/.test(header.trim()) ? header.trim() : query.lastEventId;
        return new EventStreamBody(await svc.streamAlerts(query, last));
      },
    }),
    route({
      id: 'acknowledgeAlert',
      method: 'POST',
      path: '/v1/alerts/:id/ack',
      tag: 'alerts',
      summary: 'Acknowledge a drift alert (recorded with the token subject and an optional note)',
      description: 'Streams of every instance pass the acknowledgement on as an `alert.acknowledged` event. A second acknowledgement is answered 409 with who acknowledged it first.',
      roles: access.alerts,
      params: S.AlertParams,
      body: S.AckRequest,
      success: { status: 200, description: 'The acknowledgement.', schema: S.AlertAck },
      errors: [404, 409],
      handler: ({ principal, params, body }) => svc.acknowledgeAlert(principal!, params.id, body.note),
    }),
  ];
}
