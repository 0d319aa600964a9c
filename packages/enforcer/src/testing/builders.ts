import { encodeWireJson, topicNames, type Heartbeat, type Revocation, type ScopeChange, type ScopeSnapshot } from '@livescope/contracts';
import { CommandSigner, generateSigningKeyPair, parsePrivateKey, parsePublicKey, type VerifyingKey } from '@livescope/transport';
import type { IHeaders } from 'kafkajs';
import type { InboundMessage } from '../CommandProcessor.js';

/**
 * Builders for the enforcer's unit tests (not exported from the package): real Ed25519 keys and
 * wire-format messages as the scope worker writes them.
 */
export const T0 = Date.parse('2026-11-28T12:00:00Z');
export const topics = topicNames('t.');

export interface TestKeys {
  readonly signer: CommandSigner;
  readonly trusted: VerifyingKey;
}

export function testKeys(kid = 'k1', epoch = 1): TestKeys {
  const pair = generateSigningKeyPair(kid);
  return { signer: new CommandSigner(parsePrivateKey(kid, pair.privateKey), epoch), trusted: parsePublicKey(kid, pair.publicKey) };
}

export function snapshot(identityId: string, version: number, over: Partial<ScopeSnapshot> = {}): ScopeSnapshot {
  return {
    kind: 'scope.snapshot',
    identityId: identityId as ScopeSnapshot['identityId'],
    version,
    at: new Date(T0).toISOString(),
    status: 'active',
    permissions: [{ action: 'db:read', resource: 'db/a', access: 'read', validUntil: null, grants: ['g1'] }],
    sessions: ['s1' as ScopeSnapshot['sessions'][number]],
    ...over,
  };
}

export function change(identityId: string, version: number, over: Partial<ScopeChange> = {}): ScopeChange {
  const { kind: _kind, ...body } = snapshot(identityId, version);
  return { kind: 'scope.change', ...body, previousVersion: version - 1, direction: 'refresh', added: [], removed: [], cause: {}, ...over };
}

export function revocation(identityId: string, version: number, sessionId: string): Revocation {
  return { kind: 'revocation', revocationId: `${identityId}/${version}/0`, identityId: identityId as Revocation['identityId'], version, at: new Date(T0).toISOString(), target: { type: 'session', id: sessionId, system: 'idp' }, reason: 'task completed', cause: {} };
}

export function heartbeat(partition: number, atMs: number, nextOffset?: number, logEndOffset?: number): Heartbeat {
  return { kind: 'heartbeat', workerId: 'w1', partition, at: new Date(atMs).toISOString(), nextOffset: String(nextOffset ?? 0), ...(logEndOffset === undefined ? {} : { logEndOffset: String(logEndOffset) }) };
}

/**
 * A message as read from `topic` at `offset`, signed by `keys` over (signTopic, signKey) — by
 * default the topic and key it is read with; `headers: {}` leaves it unsigned.
 */
export function message(
  topic: string,
  key: string,
  value: object,
  offset: number,
  o: { keys?: TestKeys; signTopic?: string; signKey?: string; headers?: IHeaders; partition?: number; timestampMs?: number } = {},
): InboundMessage {
  const bytes = encodeWireJson(1, value);
  const headers = o.headers ?? o.keys?.signer.headers(o.signTopic ?? topic, o.signKey ?? key, bytes) ?? {};
  return { topic, partition: o.partition ?? 0, offset: String(offset), key: Buffer.from(key), value: bytes, headers, timestamp: String(o.timestampMs ?? T0) };
}
