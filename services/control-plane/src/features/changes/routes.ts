import type { z } from 'zod';
import { access } from '../../auth/roles.js';
import type { EventStreamSource } from '../../http/EventStream.js';
import { EventStreamBody, route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the change-feed routes need. */
export interface ChangesApi {
  changes(q: z.infer<typeof S.ChangesQuery>): Promise<z.input<typeof S.ChangesList>>;
  /** The stream after `lastEventId` (an audit position), or from now. */
  streamChanges(q: z.infer<typeof S.ChangeStreamQuery>, lastEventId: string | undefined): Promise<EventStreamSource>;
}

/** Routes of the change feed (tag `fleet`). */
export function changeRoutes(svc: ChangesApi): RouteDef[] {
  return [
    route({
      id: 'listChanges',
      method: 'GET',
      path: '/v1/changes',
      tag: 'fleet',
      summary: 'The newest scope changes and revocations of the whole fleet, with their causes, and the position to stream on from',
      roles: access.read,
      query: S.ChangesQuery,
      success: { status: 200, description: 'Recent changes, newest first.', schema: S.ChangesList },
      handler: ({ query }) => svc.changes(query),
    }),
    route({
      id: 'streamChanges',
      method: 'GET',
      path: '/v1/changes/stream',
      tag: 'fleet',
      summary: 'Follow scope changes and revocations live (Server-Sent Events from the audit log; resume with Last-Event-ID)',
      description:
        'Each event is `event: scope.change` or `event: revocation`, `id: <audit position>`, `data: <ChangeItem JSON>`. An `event: position` with an empty object moves the resume position when nothing matched the filter for a while. Without Last-Event-ID the stream starts now; with the `cursor` of GET /v1/changes it follows on from that answer without a gap.',
      roles: access.read,
      query: S.ChangeStreamQuery,
      success: { status: 200, description: 'An event stream of ChangeItem objects.', contentType: 'text/event-stream' },
      handler: async ({ query, request }) => {
        const header = request.headers['last-event-id'];
        const last = typeof header === 'string' && header.trim() !== '' ? header.trim() : query.lastEventId;
        return new EventStreamBody(await svc.streamChanges(query, last));
      },
    }),
  ];
}
