import { describe, expect, it } from 'vitest';
import { loadInteropConfig } from '../src/config.js';

const keys = JSON.stringify([{ kid: 'k1', alg: 'RS256', privateKey: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----' }]);
const base = { LIVESCOPE_SSF_SIGNING_KEYS: keys, LIVESCOPE_COMMAND_PUBLIC_KEYS: '{"w1":"abc"}' };

describe('livescope-interop configuration', () => {
  it('has defaults for everything but the keys', () => {
    const c = loadInteropConfig(base);
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8470, defaultSubjects: 'ALL', sessionSubjects: 'complex', pushMaxAttempts: 10, consumeFromBeginning: false, receiverClients: [], trustedIssuers: [] });
    expect([...c.features]).toEqual(['transmitter', 'receiver', 'ocsf']);
  });
  it('names the variable that is wrong', () => {
    expect(() => loadInteropConfig({})).toThrow(/LIVESCOPE_SSF_SIGNING_KEYS is required/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_COMMAND_PUBLIC_KEYS: '{}' })).toThrow(/LIVESCOPE_COMMAND_PUBLIC_KEYS is required/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_INTEROP_PORT: 'eighty' })).toThrow(/LIVESCOPE_INTEROP_PORT/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_RECEIVER_CLIENTS: '[{"clientId":"a","token":"short","audience":"x"}]' })).toThrow(/LIVESCOPE_SSF_RECEIVER_CLIENTS: 0.token/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_TRUSTED_ISSUERS: '[{"issuer":"https://idp","audience":["a"]}]' })).toThrow(/needs exactly one of jwks and jwksUri/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_INTEROP_ENABLE: 'transmitter,magic' })).toThrow(/unknown feature magic/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_SIGNING_KEYS: 'not json' })).toThrow(/LIVESCOPE_SSF_SIGNING_KEYS: is not JSON/);
  });
  it('a receiver-only deployment needs no signing keys', () => {
    expect([...loadInteropConfig({ LIVESCOPE_INTEROP_ENABLE: 'receiver' }).features]).toEqual(['receiver']);
  });
});
