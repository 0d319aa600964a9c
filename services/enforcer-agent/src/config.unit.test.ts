import { readFileSync } from 'node:fs';
import { optionsBlock, optionsTable } from '@livescope/runtime';
import { describe, expect, it } from 'vitest';
import { agentOptions, ConfigError, loadAgentConfig } from './config.js';

const base = {
  LIVESCOPE_ENFORCER_TRUSTED_KEYS: JSON.stringify({ k1: 'x'.repeat(43) }),
  LIVESCOPE_AGENT_ROUTES: JSON.stringify([{ path: '/a/{id}', action: 'a:read', resource: 'a/{id}' }]),
  LIVESCOPE_AGENT_IDENTITY_SOURCES: 'header',
  LIVESCOPE_AGENT_IDENTITY_HEADER: 'X-Identity',
};
const variables = (env: Record<string, string>): readonly string[] => {
  try {
    loadAgentConfig(env);
  } catch (e) {
    if (ConfigError.is(e)) return e.variables;
    throw e;
  }
  return [];
};

describe('agent configuration', () => {
  it('docs/enforcement.md shows the table generated from the options (npm run docs:config)', () => {
    const doc = readFileSync(new URL('../../../docs/enforcement.md', import.meta.url), 'utf8');
    expect(optionsBlock(doc, 'enforcer-agent')).toBe(optionsTable(agentOptions));
  });

  it('parses a minimal configuration, header names in lower case', () => {
    const c = loadAgentConfig(base);
    expect(c.identityHeader).toBe('x-identity');
    expect(c.grpcPort).toBe(-1);
    expect(c.routes).toHaveLength(1);
  });

  it('refuses routes that capture nothing they use, a jwt source over plain http, SPIFFE without trust domains', () => {
    expect(variables({ ...base, LIVESCOPE_AGENT_ROUTES: JSON.stringify([{ path: '/a', action: 'a', resource: 'a/{id}' }]) })).toEqual(['LIVESCOPE_AGENT_ROUTES']);
    expect(variables({ ...base, LIVESCOPE_AGENT_ROUTES: JSON.stringify([{ path: '/{rest*}/x', action: 'a', resource: 'r' }]) })).toEqual(['LIVESCOPE_AGENT_ROUTES']);
    expect(variables({ ...base, LIVESCOPE_AGENT_IDENTITY_SOURCES: 'jwt', LIVESCOPE_AGENT_JWKS_URL: 'http://issuer.example/jwks', LIVESCOPE_AGENT_JWT_ISSUER: 'i', LIVESCOPE_AGENT_JWT_AUDIENCE: 'a' })).toEqual(['LIVESCOPE_AGENT_JWKS_URL']);
    expect(variables({ ...base, LIVESCOPE_AGENT_IDENTITY_SOURCES: 'spiffe' })).toEqual(['LIVESCOPE_AGENT_SPIFFE_TRUST_DOMAINS']);
    expect(variables({ ...base, LIVESCOPE_ENFORCER_ACK_KEY: 'x'.repeat(43) })).toEqual(['LIVESCOPE_ENFORCER_ACK_KEY']);
  });

  it('never shows the acknowledgement key', () => {
    const c = loadAgentConfig({ ...base, LIVESCOPE_ENFORCER_ACK_KEY_ID: 'a1', LIVESCOPE_ENFORCER_ACK_KEY: 's3cret-seed-s3cret-seed-s3cret-seed-s3cret' });
    expect(c.ackSigningKey).toContain('s3cret');
    expect(JSON.stringify(c)).not.toContain('s3cret');
  });
});
