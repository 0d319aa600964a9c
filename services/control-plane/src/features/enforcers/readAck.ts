import { decodeMessage, EnforcerAck } from '@livescope/contracts';
import type { IHeaders } from 'kafkajs';
import type { AckAuthenticator, AckVerdict } from './AckAuthenticator.js';

const DECODE = { maxBytes: 16 * 1024 * 1024, isKnownSchemaId: () => true };

/** One message of the acknowledgements topic, as both of its consumers see it. */
export interface AckMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
}

/**
 * Decodes an acknowledgement and judges who sent it. Throws a ContractError when the message is
 * unreadable; returns the verdict otherwise (the caller drops `refused` ones).
 */
export function readAck(auth: AckAuthenticator, topic: string, m: AckMessage): { readonly ack: EnforcerAck; readonly verdict: AckVerdict } {
  const ack = decodeMessage(EnforcerAck, m.value, DECODE, 'enforcer ack');
  return { ack, verdict: auth.judge(topic, m.key === null ? null : m.key.toString(), m.value!, m.headers, ack.enforcerId) };
}
