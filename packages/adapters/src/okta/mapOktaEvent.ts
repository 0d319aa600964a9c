import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import { clip, identityEventInput, idPart, labelsOf, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import type { Mapped } from '../common/Mapped.js';
import { deadLetter, noEvents } from '../common/MappingResult.js';
import { normalizeTime } from '../common/normalizeTime.js';
import type { OktaLogEvent } from './OktaLogEvent.js';

export interface OktaOptions extends CommonAdapterOptions {
  /** `enforcerId` of denied token grants and actions. Default `okta`. */
  readonly enforcerId: string;
  /** Lifetime of an access token whose expiry the event does not show (ms). Default 1 h, Okta's default. */
  readonly defaultTokenTtlMs: number;
}

export const OKTA_SOURCE = 'livescope-adapter/okta';
/** Actor types that are applications (OAuth clients), not people. */
export const NON_HUMAN_ACTOR_TYPES: ReadonlySet<string> = new Set(['PublicClientApp', 'AppInstance', 'Client']);
const TOKEN_GRANT = /^app\.oauth2\.(as\.)?token\.grant(\..+)?$/;

/** An OAuth client (service app) → `okta:<client id>`. */
export function oktaClientIdentity(actor: OktaLogEvent['actor']): IdentityDescription {
  return { id: `okta:${idPart(actor.id)}`, kind: 'workload', name: actor.displayName || actor.alternateId || actor.id, namespace: 'okta', labels: labelsOf({ source: 'okta', 'okta.actor_type': actor.type, 'okta.client_id': actor.id }) };
}

/** An API token (a credential that acts for a service) → `okta:api-token/<token id>`, owned by its creator. */
export function oktaApiTokenIdentity(target: { id: string; displayName?: string | null | undefined }, creator: string | undefined): IdentityDescription {
  return { id: `okta:api-token/${idPart(target.id)}`, kind: 'service-account', name: target.displayName || target.id, namespace: 'okta', labels: labelsOf({ source: 'okta', 'okta.token_id': target.id }), ...(creator ? { owner: creator } : {}) };
}

/**
 * Maps one Okta System Log event: API-token lifecycle (`system.api_token.*`) → the token identity
 * created / deleted; OAuth token grants to a service app → a session (or out-of-scope evidence when
 * denied); other events whose actor is an application → activity. People's events are skipped.
 */
export function mapOktaEvent(e: OktaLogEvent, options: OktaOptions): Mapped {
  const time = normalizeTime(e.published);
  if (!time) return deadLetter('schema-invalid', `okta event ${e.uuid}: published ${JSON.stringify(e.published)} is not a timestamp`);
  const key = `okta:${idPart(e.uuid)}`;
  const stamp = (suffix: string): EventStamp => ({ id: `${key}/${suffix}`, time, source: OKTA_SOURCE });
  const result = (e.outcome?.result ?? 'UNKNOWN').toUpperCase();
  const success = result === 'SUCCESS' || result === 'ALLOW';
  const debug = e.debugContext?.debugData ?? {};
  const targets = e.target ?? [];
  const creator = e.actor.alternateId ?? e.actor.id;

  if (e.eventType === 'system.api_token.create' || e.eventType === 'system.api_token.revoke') {
    const tokens = targets.filter((t) => t.type === 'Token');
    if (!success || tokens.length === 0) return noEvents(success ? 'API token event without a Token target' : `API token event with outcome ${result}`);
    if (e.eventType === 'system.api_token.create') {
      const identities = tokens.map((t) => oktaApiTokenIdentity(t, creator));
      return {
        events: identities.map((i, n) => identityEventInput('identity.created', i.id, { kind: i.kind, name: i.name, namespace: i.namespace, owner: i.owner ?? options.owner, labels: i.labels ?? {} }, stamp(`created${n ? `-${n}` : ''}`))),
        created: identities.map((i) => i.id),
      };
    }
    return { events: tokens.map((t, n) => identityEventInput('identity.deleted', oktaApiTokenIdentity(t, creator).id, { reason: clip(`Okta API token revoked by ${creator}`, 1024) }, stamp(`deleted${n ? `-${n}` : ''}`))) };
  }

  if (!NON_HUMAN_ACTOR_TYPES.has(e.actor.type)) return noEvents(`actor of type ${e.actor.type} is not an application (people and Okta itself are not livescope identities)`);
  const identity = oktaClientIdentity(e.actor);
  const action = `okta:${e.eventType}`;
  const scopes = typeof debug.grantedScopes === 'string' ? debug.grantedScopes : typeof debug.requestedScopes === 'string' ? debug.requestedScopes : undefined;
  const resource = TOKEN_GRANT.test(e.eventType) ? `scopes:${scopes ?? '*'}` : targets[0] ? `${targets[0].type}/${targets[0].id}` : e.eventType;
  const mapped = (events: Mapped['events']): Mapped => ({ events, identities: [identity], recordKey: key, time, source: OKTA_SOURCE });

  if (!success) {
    if (result === 'DENY' || result === 'FAILURE') {
      return mapped([
        identityEventInput(
          'enforcement.decisions',
          identity.id,
          { enforcerId: options.enforcerId, windowStart: time, windowEnd: time, decisions: [{ action, resource: clip(resource, 512), allowed: 0, denied: 1, reason: clip(e.outcome?.reason ?? result, 1024) }] },
          stamp('denied'),
        ),
      ]);
    }
    return noEvents(`outcome ${result}`);
  }
  if (TOKEN_GRANT.test(e.eventType)) {
    const accessToken = targets.find((t) => t.type === 'access_token');
    const expires = normalizeTime(accessToken?.detailEntry?.expires);
    const sessionId = `okta:${idPart(e.transaction?.id ?? e.uuid)}`;
    return mapped([
      identityEventInput(
        'session.started',
        identity.id,
        { sessionId, system: 'okta', expiresAt: expires ?? new Date(Date.parse(time) + options.defaultTokenTtlMs).toISOString(), ...(accessToken?.id ? { tokenId: idPart(accessToken.id) } : {}), ...(scopes ? { task: clip(scopes, 256) } : {}) },
        stamp('session'),
      ),
    ]);
  }
  return mapped([identityEventInput('telemetry.activity', identity.id, { action, resource: clip(resource, 512) }, stamp('activity'))]);
}
