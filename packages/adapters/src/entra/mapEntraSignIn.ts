import type { LivescopeEventInput } from '@livescope/contracts';
import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import { canonicalJson } from '../common/canonicalJson.js';
import type { CredentialUse } from '../common/CredentialUse.js';
import { clip, identityEventInput, idPart, labelsOf, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import { array, object, text, type Json } from '../common/looseRead.js';
import type { Mapped } from '../common/Mapped.js';
import { deadLetter, noEvents, type AdapterContext } from '../common/MappingResult.js';
import { isIp } from '../common/network.js';
import { normalizeTime } from '../common/normalizeTime.js';
import { personSkipped } from '../common/personSkipped.js';
import { sha256Hex } from '../common/sha256.js';

export interface EntraOptions extends CommonAdapterOptions {
  /** `enforcerId` of failed sign-ins. Default `entra`. */
  readonly enforcerId: string;
  /** Lifetime of an app-only access token issued to a service principal (ms). Default 1 h (Entra issues 60-90 min). */
  readonly servicePrincipalTokenTtlMs: number;
  /** Lifetime of a managed identity's token (ms). Default 24 h (managed identity tokens are cached for 24 h). */
  readonly managedIdentityTokenTtlMs: number;
}

export const ENTRA_SOURCE = 'livescope-adapter/entra';

export type SignInKind = 'service-principal' | 'managed-identity' | 'user';

/**
 * What kind of sign-in a record is, from the diagnostic-setting `category`, the Log Analytics table
 * (`Type`), or Microsoft Graph's `signInEventTypes`; undefined for other Entra log categories.
 */
export function signInKind(record: Json, props: Json): { kind: SignInKind; field: string; value: string } | { kind: 'other'; field: string; value: string } | undefined {
  const category = text(record, 'category') ?? text(record, 'Type');
  if (category) {
    const c = category.toLowerCase().replace(/^aad/, '');
    if (c === 'serviceprincipalsigninlogs') return { kind: 'service-principal', field: 'category', value: category };
    if (c === 'managedidentitysigninlogs') return { kind: 'managed-identity', field: 'category', value: category };
    if (c === 'signinlogs' || c === 'noninteractiveusersigninlogs') return { kind: 'user', field: 'category', value: category };
    return { kind: 'other', field: 'category', value: category };
  }
  const types = array(props, 'signInEventTypes').filter((t): t is string => typeof t === 'string');
  if (types.includes('managedIdentity')) return { kind: 'managed-identity', field: 'signInEventTypes', value: types.join(',') };
  if (types.includes('servicePrincipal')) return { kind: 'service-principal', field: 'signInEventTypes', value: types.join(',') };
  if (types.length) return { kind: 'user', field: 'signInEventTypes', value: types.join(',') };
  if (text(props, 'userPrincipalName') || text(props, 'userId')) return { kind: 'user', field: 'userPrincipalName', value: text(props, 'userPrincipalName') ?? text(props, 'userId')! };
  if (text(props, 'servicePrincipalId')) return { kind: 'service-principal', field: 'servicePrincipalId', value: text(props, 'servicePrincipalId')! };
  return undefined;
}

/**
 * Maps one Microsoft Entra ID sign-in record: diagnostic-setting exports (Event Hubs, storage:
 * `{time, category, resultType, properties}`), Log Analytics rows (`AADServicePrincipalSignInLogs`,
 * `AADManagedIdentitySignInLogs`) and Microsoft Graph `signIn` objects. Service-principal and
 * managed-identity sign-ins are client-credential token issuances: success → a session of the
 * principal for the token (`uniqueTokenIdentifier`) and its use of the resource; failure → out-of-
 * scope evidence with the AADSTS code. User sign-ins are people: skipped. Pure.
 */
export function mapEntraSignIn(record: Json, options: EntraOptions, ctx: AdapterContext): Mapped {
  const props = object(record, 'properties') ?? record;
  const kind = signInKind(record, props);
  if (!kind) return deadLetter('unsupported', 'not an Entra sign-in: no category, Type, signInEventTypes, servicePrincipalId or userPrincipalName');
  if (kind.kind === 'other') return deadLetter('unsupported', `Entra log category ${kind.value} is not a sign-in log (ServicePrincipalSignInLogs, ManagedIdentitySignInLogs, SignInLogs, NonInteractiveUserSignInLogs)`);
  const time = normalizeTime(text(props, 'createdDateTime')) ?? normalizeTime(text(record, 'time', 'TimeGenerated')) ?? ctx.receivedAt;
  const signInId = text(props, 'id') ?? text(record, 'Id') ?? text(props, 'correlationId') ?? text(record, 'correlationId');
  const key = signInId ? `entra:${idPart(signInId)}` : `entra:sha256-${sha256Hex(canonicalJson(record)).slice(0, 32)}`;
  const stamp = (suffix: string): EventStamp => ({ id: `${key}/${suffix}`, time, source: ENTRA_SOURCE });
  const errorCode = Number(text(object(props, 'status'), 'errorCode') ?? text(record, 'resultType', 'ResultType') ?? 0);
  const success = errorCode === 0;
  const ipText = text(props, 'ipAddress') ?? text(record, 'callerIpAddress', 'IPAddress');
  const ip = ipText && isIp(ipText) ? ipText : undefined;
  const resourceName = text(props, 'resourceDisplayName') ?? text(props, 'resourceId') ?? 'entra';
  const resource = clip(text(props, 'resourceId') ? `${resourceName} (${text(props, 'resourceId')})` : resourceName, 512);

  if (kind.kind === 'user') {
    const who = text(props, 'userPrincipalName') ?? text(props, 'userId') ?? text(props, 'userDisplayName') ?? 'a user';
    return personSkipped(options.humans, `${kind.field} ${kind.value}: a user sign-in by ${who} (a person)`, { source: 'entra', actor: who, actorField: 'userPrincipalName', time, action: 'entra:sign-in', resource, ...(ip ? { sourceIp: ip } : {}), outcome: success ? 'success' : 'failure' });
  }
  const principalId = text(props, 'servicePrincipalId') ?? text(props, 'appId');
  if (!principalId) return noEvents('unattributed', 'servicePrincipalId', `${kind.value} sign-in without servicePrincipalId or appId`);
  const managed = kind.kind === 'managed-identity';
  const msi = object(props, 'managedServiceIdentity');
  const tenant = text(record, 'tenantId') ?? text(props, 'resourceTenantId', 'homeTenantId');
  const identity: IdentityDescription = {
    id: `entra:${managed ? 'mi' : 'sp'}/${idPart(principalId)}`,
    kind: managed ? 'workload' : 'service-account',
    name: text(props, 'servicePrincipalName') ?? text(props, 'appDisplayName') ?? principalId,
    namespace: tenant ?? 'entra',
    labels: labelsOf({
      source: 'entra',
      'entra.app_id': text(props, 'appId'),
      'entra.tenant_id': tenant,
      'entra.principal': managed ? 'managed-identity' : 'service-principal',
      'entra.managed_identity_type': text(msi, 'msiType') ?? (text(props, 'managedIdentityType') !== 'none' ? text(props, 'managedIdentityType') : undefined),
      'entra.associated_resource': text(msi, 'associatedResourceId'),
    }),
  };
  const credentialKey = text(props, 'servicePrincipalCredentialKeyId') ?? text(props, 'federatedCredentialId');
  const uti = text(props, 'uniqueTokenIdentifier');
  const credentialType = text(props, 'clientCredentialType');
  const events: LivescopeEventInput[] = [];
  const uses: CredentialUse[] = [];
  if (credentialKey && ip) uses.push({ identityId: identity.id, credentialId: `entra-credential:${idPart(credentialKey)}`, sourceIp: ip, time, recordKey: key, action: `sign-in to ${resourceName}` });
  if (success) {
    const ttl = managed ? options.managedIdentityTokenTtlMs : options.servicePrincipalTokenTtlMs;
    const sessionId = uti ? `entra:token/${idPart(uti)}` : `${key}/token`;
    events.push(
      identityEventInput(
        'session.started',
        identity.id,
        { sessionId, system: 'entra', expiresAt: new Date(Date.parse(time) + ttl).toISOString(), ...(uti ? { tokenId: idPart(uti) } : {}), task: clip(`token for ${resourceName}${credentialType && credentialType !== 'none' ? ` (${credentialType})` : ''}`, 256) },
        stamp('session'),
      ),
    );
    events.push(identityEventInput('telemetry.activity', identity.id, { action: 'entra:sign-in', resource }, stamp('activity')));
  } else {
    const reason = `AADSTS${errorCode}${text(object(props, 'status'), 'failureReason') ? `: ${text(object(props, 'status'), 'failureReason')}` : ''}`;
    events.push(identityEventInput('enforcement.decisions', identity.id, { enforcerId: options.enforcerId, windowStart: time, windowEnd: time, decisions: [{ action: 'entra:sign-in', resource, allowed: 0, denied: 1, reason: clip(reason, 1024) }] }, stamp('denied')));
  }
  return { events, identities: [identity], recordKey: key, time, source: ENTRA_SOURCE, ...(uses.length ? { uses } : {}) };
}
