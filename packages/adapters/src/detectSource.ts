import { decodeJwtPayload } from './github-oidc/decodeJwtPayload.js';
import { array, isObject, member, object, path, text } from './common/looseRead.js';
import type { AdapterInput, SourceName } from './common/MappingResult.js';

const GITHUB_ISSUER = /^https:\/\/(token\.actions\.githubusercontent\.com|[^/]+\/_services\/token)(\/|$)/;
const ENTRA_CATEGORY = /^(aad)?(serviceprincipal|managedidentity|noninteractiveuser)?signinlogs$/i;

function detectValue(v: unknown, depth = 0): SourceName | undefined {
  if (typeof v === 'string') {
    const jwt = decodeJwtPayload(v);
    return jwt && GITHUB_ISSUER.test(text(jwt.payload, 'iss') ?? '') ? 'github-oidc' : undefined;
  }
  if (Array.isArray(v)) return depth < 2 && v.length ? detectValue(v[0], depth + 1) : undefined;
  if (!isObject(v)) return undefined;
  // Wrappers: CloudTrail log files, EventBridge, Kubernetes EventLists, Event Hubs, Graph pages, Logging entries.list, Pub/Sub.
  if (Array.isArray(v.Records)) return 'cloudtrail';
  if (typeof v['detail-type'] === 'string' && isObject(v.detail)) return detectValue(v.detail, depth + 1) ?? (String(v.source).startsWith('aws.') ? 'cloudtrail' : undefined);
  if (v.kind === 'EventList' || v.kind === 'Event') return 'k8s';
  if (depth < 2 && !object(v, 'properties') && !object(v, 'protoPayload')) {
    for (const wrapper of ['records', 'value', 'entries', 'items']) {
      const inner = array(v, wrapper);
      if (inner.length) return detectValue(inner[0], depth + 1);
    }
  }
  if (isObject(member(v, 'protoPayload')) && (text(path(v, 'protoPayload'), '@type', 'at_sign_type')?.includes('AuditLog') || text(path(v, 'protoPayload'), 'methodName'))) return 'gcp-audit';
  if (isObject(member(v, 'message')) && text(path(v, 'message'), 'data') && text(v, 'subscription')) return 'gcp-audit';
  if (typeof v.eventSource === 'string' && typeof v.eventName === 'string' && isObject(v.userIdentity)) return 'cloudtrail';
  if (isObject(v.request) && typeof (v.request as { path?: unknown }).path === 'string' && typeof v.type === 'string' && typeof v.time === 'string') return 'vault';
  if (typeof v.verb === 'string' && isObject(v.user) && (v.auditID !== undefined || v.objectRef !== undefined || v.requestURI !== undefined || v.stage !== undefined)) return 'k8s';
  if (typeof v.eventType === 'string' && isObject(v.actor) && (typeof v.uuid === 'string' || typeof v.published === 'string')) return 'okta';
  const category = text(v, 'category') ?? text(v, 'Type');
  if (category && ENTRA_CATEGORY.test(category)) return 'entra';
  if (Array.isArray(member(v, 'signInEventTypes')) || (text(v, 'createdDateTime') && (text(v, 'servicePrincipalId') !== undefined || text(v, 'userPrincipalName')) && text(v, 'appId'))) return 'entra';
  if (GITHUB_ISSUER.test(text(v, 'iss') ?? '') && typeof v.sub === 'string') return 'github-oidc';
  return undefined;
}

/**
 * Which of the seven source families a record belongs to, from fields only that family writes:
 * `Records`/`eventSource`+`userIdentity` (CloudTrail), `request.path`+`type`+`time` (Vault), `verb`+`user`
 * or `kind: Event[List]` (Kubernetes), `protoPayload` AuditLog (Google Cloud), `eventType`+`actor`+`uuid`
 * (Okta), sign-in `category`/`signInEventTypes` (Entra ID), a GitHub Actions token issuer (GitHub OIDC).
 * Undefined when no family matches.
 */
export function detectSource(input: AdapterInput): SourceName | undefined {
  if (!input.parsed.ok) {
    const jwt = decodeJwtPayload(input.raw);
    return jwt && GITHUB_ISSUER.test(text(jwt.payload, 'iss') ?? '') ? 'github-oidc' : undefined;
  }
  return detectValue(input.parsed.value);
}
