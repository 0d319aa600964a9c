import type { EventType } from './events.js';

/**
 * The two trust classes of input (docs/threat-model.md).
 *
 * *Control* events can widen scope or decide who is accountable: policies, entitlements, identity
 * lifecycle, responder orders and lifts, approvals, release windows, incident modes. They are applied
 * only when signed by a producer key whose configured capabilities allow the event type (and, where
 * the key is limited to namespaces, only inside them); anything else is dead-lettered
 * `unauthorized-producer` and raises an alert.
 *
 * *Observations* (telemetry, activity, observed sessions, secret access, ingested logs, enforcement
 * decision reports) may be unsigned. Unsigned, they can only narrow, revoke, raise risk or raise
 * alerts: a session they start is recorded as *observed* (never accepted at enforcement points, never
 * seen by policies), a risk score they send can only raise the score, and any event whose effect
 * would still widen a scope is refused. Signed by a key allowed to send them (a session issuer, a
 * risk scorer), they apply in full.
 */
export const controlEventTypes = [
  'policies.published',
  'org.release-window',
  'org.release-window-cancelled',
  'org.incident-mode',
  'order.issued',
  'order.lifted',
  'entitlement.granted',
  'entitlement.revoked',
  'jit.granted',
  'jit.revoked',
  'identity.updated',
  'identity.disabled',
  'identity.enabled',
  'identity.deleted',
  'session.approval-granted',
  'session.approval-revoked',
] as const satisfies readonly EventType[];
export type ControlEventType = (typeof controlEventTypes)[number];

const controlSet: ReadonlySet<string> = new Set(controlEventTypes);

/** Whether an event type needs a producer signature to apply at all. */
export function isControlEventType(type: string): type is ControlEventType {
  return controlSet.has(type);
}

/** Kafka headers that carry a producer's Ed25519 signature of an input event. */
export const PRODUCER_KEY_ID_HEADER = 'livescope-producer-kid';
export const PRODUCER_SIGNATURE_HEADER = 'livescope-producer-sig';

/**
 * With a batch signature (one Ed25519 signature over the Merkle root of a produced batch's signing
 * payloads): the message's inclusion proof — leaf index, leaf count, siblings — as commands carry it.
 */
export const PRODUCER_PROOF_HEADER = 'livescope-producer-proof';

const EVENT_DOMAIN = 'livescope.event.v1';
const EVENT_BATCH_DOMAIN = 'livescope.event-batch.v1';

/**
 * The bytes a producer signs for a batch of input events: a domain tag distinct from a single
 * event's (neither is a prefix of the other), then the Merkle root of the events' signing payloads.
 */
export function producerBatchRootPayload(root: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`${EVENT_BATCH_DOMAIN}\n`);
  const out = new Uint8Array(head.length + root.length);
  out.set(head, 0);
  out.set(root, head.length);
  return out;
}

/**
 * The bytes a producer signs for an input event: a domain tag, the topic, the message key and the
 * exact message value (wire header included). Binding the topic and the key means a signed event
 * cannot be moved to another topic (another pipeline's prefix) or re-keyed to another partition.
 */
export function producerSigningPayload(topic: string, key: string | null, value: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`${EVENT_DOMAIN}\n${topic}\n${key ?? ''}\n`);
  const out = new Uint8Array(head.length + value.length);
  out.set(head, 0);
  out.set(value, head.length);
  return out;
}

/**
 * What a producer key may send, from the keyring: event types (exact, a prefix wildcard such as
 * `order.*`, or `*`) and optionally the namespaces it is limited to.
 */
export interface ProducerCapabilities {
  readonly eventTypes: readonly string[];
  /** When set, identity events only for identities in these namespaces, and org-wide events only about them. */
  readonly namespaces?: readonly string[];
}

/** Whether a capability list allows an event type. */
export function capabilityAllows(caps: ProducerCapabilities, type: string): boolean {
  for (const pattern of caps.eventTypes) {
    if (pattern === '*' || pattern === type) return true;
    if (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))) return true;
  }
  return false;
}
