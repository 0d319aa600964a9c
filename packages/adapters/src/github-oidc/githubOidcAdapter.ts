import { defaultCommonOptions, withDefaults } from '../common/AdapterOptions.js';
import { sourced } from '../common/createMapper.js';
import { IdentityAnnouncer } from '../common/IdentityAnnouncer.js';
import { LinearToken } from '../common/LinearToken.js';
import { announceIdentities } from '../common/Mapped.js';
import { deadLetter, type AdapterInput, type RecordAdapter, type Step } from '../common/MappingResult.js';
import { invalidRecord } from '../common/zodIssues.js';
import { decodeJwtPayload } from './decodeJwtPayload.js';
import { GithubOidcClaims } from './GithubOidcClaims.js';
import { mapGithubOidcClaims, type GithubOidcOptions } from './mapGithubOidcClaims.js';

export interface GithubOidcState {
  readonly token: LinearToken;
  readonly announcer: IdentityAnnouncer;
}

/**
 * GitHub Actions OIDC tokens → CI job identities. Records are decoded claim sets (JSON) or compact
 * JWTs (one per line; decoded here, verified by the shell when it has the issuer's JWKS). Whether a
 * token was verified comes only from the shell (`AdapterInput.verified`): a record cannot claim it.
 */
export function githubOidcAdapter(given?: Partial<GithubOidcOptions>): RecordAdapter<GithubOidcState> {
  const options = withDefaults(defaultCommonOptions, given);
  return {
    source: 'github-oidc',
    initialState: () => ({ token: new LinearToken(), announcer: new IdentityAnnouncer(options.announce, options.owner, options.memoryEntries) }),
    step(state: GithubOidcState, input: AdapterInput): Step<GithubOidcState> {
      const s: GithubOidcState = { ...state, token: state.token.consume() };
      let value: unknown;
      if (input.parsed.ok) {
        value = input.parsed.value;
        if (typeof value === 'string') value = decodeJwtPayload(value)?.payload ?? value;
      } else {
        const jwt = decodeJwtPayload(input.raw);
        if (!jwt) return { state: s, results: [sourced(input.raw, deadLetter('not-json', `record is neither JSON nor a compact JWT: ${input.parsed.error}`))] };
        value = jwt.payload;
      }
      const v = value as Record<string, unknown> | null;
      if (v && typeof v === 'object' && 'alg' in v && !('iss' in v)) {
        return { state: s, results: [sourced(input.raw, deadLetter('unsupported', 'a JOSE header without claims (alg but no iss): feed the token or its decoded claims'))] };
      }
      const claims = GithubOidcClaims.safeParse(value);
      if (!claims.success) return { state: s, results: [sourced(input.raw, invalidRecord('not GitHub Actions OIDC token claims', claims.error))] };
      return { state: s, results: [sourced(input.raw, announceIdentities(mapGithubOidcClaims(claims.data, input.verified === true), s.announcer))] };
    },
    flush: (state: GithubOidcState): Step<GithubOidcState> => ({ state: { ...state, token: state.token.consume() }, results: [] }),
  };
}
