import { SetSigner } from '@livescope/caep';
import { createLogger } from '@livescope/transport';
import { exportPKCS8, generateKeyPair } from 'jose';
import type { ReceiverClient } from '../src/config.js';

export const silentLogger = createLogger('test', 'silent');

export async function rsaSigner(kid = 'k1'): Promise<{ signer: SetSigner; privateKeyPem: string }> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const privateKeyPem = await exportPKCS8(privateKey);
  return { signer: await SetSigner.create([{ kid, alg: 'RS256', privateKey: privateKeyPem }]), privateKeyPem };
}

export const acme: ReceiverClient = { clientId: 'acme', token: 'acme-token-0123456789', audience: 'https://acme.example/caep' };
export const other: ReceiverClient = { clientId: 'other', token: 'other-token-0123456789', audience: 'https://other.example/caep' };

/** A fake `fetch` (the process boundary we do not own) that records requests and answers from a script. */
export function scriptedFetch(answers: (Response | Error)[]): { fetch: typeof fetch; calls: { url: string; init: RequestInit }[] } {
  const calls: { url: string; init: RequestInit }[] = [];
  const impl = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: input instanceof Request ? input.url : input.toString(), init: init ?? {} });
    const next = answers.length > 1 ? answers.shift()! : answers[0]!;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next.clone());
  };
  return { fetch: impl, calls };
}
