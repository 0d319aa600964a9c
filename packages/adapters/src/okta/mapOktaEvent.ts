import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import type { CredentialUse } from '../common/CredentialUse.js';
import { clip, identityEventInput, idPart, labelsOf, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import type { Mapped } from '../common/Mapped.js';
import { deadLetter, noEvents } from '../common/MappingResult.js';
import { isIp } from '../common/network.js';
import { normalizeTime } from '../common/normalizeTime.js';
import { personSkipped } from '../common/personSkipped.js';
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
const TOKEN_LIFECYCLE = new Set(['system.api_token.create', 'system.api_token.revoke']);

/** An OAuth client (service app) → `okta:<client id>`. */
export function oktaClientIdentity(actor: OktaLogEvent['actor']): IdentityDescription {
  return { id: `okta:${idPart(actor.id)}`, kind: 'workload', name: actor.displayName || actor.alternateId || actor.id, namespace: 'okta', labels: labelsOf({ source: 'okta', 'okta.actor_type': actor.type, 'okta.client_id': actor.id }) };
}

/** An API token (a credential that acts for a service) → `okta:api-token/<token id>`, owned by its creator. */
export function oktaApiTokenIdentity(target: { id: string; displayName?: string | null | undefined }, creator: string | undefined): IdentityDescription {
  return { id: `okta:api-token/${idPart(target.id)}`, kind: 'service-account', name: target.displayName || target.id, namespace: 'okta', labels: labelsOf({ source: 'okta', 'okta.token_id': target.id }), ...(creator ? { owner: creator } : {}) };
}

/**
 * The API token a request was made with: `transaction.detail.requestApiTokenId` (Okta logs the
 * token's owner as the actor, but the token is the non-human identity), else a `Token` target of an
 * event that is not the token's own lifecycle.
 */
function requestApiToken(e: OktaLogEvent): { id: string; displayName?: string | null; field: string } | undefined {
  const fromDetail = e.transaction?.detail?.requestApiTokenId;
  if (typeof fromDetail === 'string' && fromDetail) {
    const target = (e.target ?? []).find((t) => t.type === 'Token' && t.id === fromDetail);
    return { id: fromDetail, displayName: target?.displayName ?? null, field: 'transaction.detail.requestApiTokenId' };
  }
  if (TOKEN_LIFECYCLE.has(e.eventType)) return undefined;
  const token = (e.target ?? []).find((t) => t.type === 'Token');
  return token ? { id: token.id, displayName: token.displayName ?? null, field: 'target[].type' } : undefined;
}

/**
 * Maps one Okta System Log event: API-token lifecycle (`system.api_token.*`) → the token identity
 * created / deleted; requests made with an API token → the token's activity; OAuth token grants to a
 * service app → a session (or out-of-scope evidence when denied); other events whose actor is an
 * application → activity. People's events are skipped.
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
  const ip = e.client?.ipAddress && isIp(e.client.ipAddress) ? e.client.ipAddress : undefined;

  if (TOKEN_LIFECYCLE.has(e.eventType)) {
    const tokens = targets.filter((t) => t.type === 'Token');
    if (tokens.length === 0) return noEvents('incomplete', 'target[].type', `${e.eventType} without a Token target`);
    if (!success) return noEvents('failed', 'outcome.result', `${e.eventType} with outcome.result ${result}`);
    if (e.eventType === 'system.api_token.create') {
      const identities = tokens.map((t) => oktaApiTokenIdentity(t, creator));
      return {
        events: identities.map((i, n) => identityEventInput('identity.created', i.id, { kind: i.kind, name: i.name, namespace: i.namespace, owner: i.owner ?? options.owner, labels: i.labels ?? {} }, stamp(`created${n ? `-${n}` : ''}`))),
        created: identities.map((i) => i.id),
      };
    }
    return { events: tokens.map((t, n) => identityEventInput('identity.deleted', oktaApiTokenIdentity(t, creator).id, { reason: clip(`Okta API token revoked by ${creator}`, 1024) }, stamp(`deleted${n ? `-${n}` : ''}`))) };
  }

  const apiToken = requestApiToken(e);
  let identity: IdentityDescription;
  const uses: CredentialUse[] = [];
  if (apiToken) {
    identity = oktaApiTokenIdentity(apiToken, e.actor.type === 'User' ? creator : undefined);
    if (ip) uses.push({ identityId: identity.id, credentialId: `okta-api-token:${idPart(apiToken.id)}`, sourceIp: ip, time, recordKey: key, action: e.eventType });
  } else if (NON_HUMAN_ACTOR_TYPES.has(e.actor.type)) {
    identity = oktaClientIdentity(e.actor);
  } else if (e.actor.type === 'User') {
    return personSkipped(options.humans, `actor.type User (${creator}) without an API token (transaction.detail.requestApiTokenId): a person`, {
      source: 'okta',
      actor: creator,
      actorField: 'actor.alternateId',
      time,
      action: `okta:${e.eventType}`,
      ...(targets[0] ? { resource: `${targets[0].type}/${targets[0].id}` } : {}),
      ...(ip ? { sourceIp: ip } : {}),
      outcome: success ? 'success' : result === 'DENY' ? 'denied' : 'failure',
    });
  } else {
    return noEvents('unattributed', 'actor.type', `actor.type ${e.actor.type} is Okta itself or an unknown principal, not a livescope identity`);
  }
  const action = `okta:${e.eventType}`;
  const scopes = typeof debug.grantedScopes === 'string' ? debug.grantedScopes : typeof debug.requestedScopes === 'string' ? debug.requestedScopes : undefined;
  const resource = TOKEN_GRANT.test(e.eventType) ? `scopes:${scopes ?? '*'}` : targets[0] ? `${targets[0].type}/${targets[0].id}` : e.eventType;
  const mapped = (events: Mapped['events']): Mapped => ({ events, identities: [identity], recordKey: key, time, source: OKTA_SOURCE, ...(uses.length ? { uses } : {}) });

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
    return noEvents('failed', 'outcome.result', `outcome.result ${result}: neither a success nor a denial`);
  }
  if (TOKEN_GRANT.test(e.eventType) && !apiToken) {
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
