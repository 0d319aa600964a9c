import { capabilityAllows } from '@livescope/contracts';
import { ProducerSigner } from '@livescope/transport';

/** The producer identity of a shell that writes input events: a signing key and the types it may send. */
export interface ProducerIdentity {
  /** Signs every event published (absent: events go unsigned, as observations). */
  readonly signer?: ProducerSigner;
  readonly keyId?: string;
  /** Whether the key may send a control event type; false for all without a key. */
  readonly allows: (eventType: string) => boolean;
}

/** The producer options as parsed (`producerOptions` in config.ts; the key is checked there). */
export interface ProducerSettings {
  readonly producerKeyId?: string | undefined;
  readonly producerKey?: string | undefined;
  readonly producerEventTypes: readonly string[];
}

/**
 * The producer identity of `livescope-ingest` and of the SET receiver, from `LIVESCOPE_PRODUCER_KEY_ID`
 * + `LIVESCOPE_PRODUCER_KEY` (or `_FILE`) and `LIVESCOPE_PRODUCER_EVENT_TYPES`: the key signs
 * everything the shell publishes; the event types (what the operator granted the key in the workers'
 * keyring) say which control events it sends, so the others are withheld instead of sent to be
 * refused. Without a key, no control event is ever sent.
 */
export function producerIdentity(c: ProducerSettings): ProducerIdentity {
  if (c.producerKeyId === undefined || c.producerKey === undefined) return { allows: () => false };
  const eventTypes = [...c.producerEventTypes];
  return { signer: ProducerSigner.fromConfig(c.producerKeyId, c.producerKey), keyId: c.producerKeyId, allows: (type) => capabilityAllows({ eventTypes }, type) };
}
