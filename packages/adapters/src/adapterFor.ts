import { AdapterError } from './common/AdapterError.js';
import type { CommonAdapterOptions } from './common/AdapterOptions.js';
import type { RecordAdapter, SourceName } from './common/MappingResult.js';
import { cloudTrailAdapter } from './cloudtrail/cloudTrailAdapter.js';
import { githubOidcAdapter } from './github-oidc/githubOidcAdapter.js';
import { k8sAdapter } from './k8s/k8sAdapter.js';
import { oktaAdapter } from './okta/oktaAdapter.js';
import { vaultAdapter } from './vault/vaultAdapter.js';

/** The adapter of a source family, with the options common to every family. */
export function adapterFor(source: SourceName, options: Partial<CommonAdapterOptions> = {}): RecordAdapter<unknown> {
  switch (source) {
    case 'vault':
      return vaultAdapter(options);
    case 'k8s':
      return k8sAdapter(options);
    case 'cloudtrail':
      return cloudTrailAdapter(options);
    case 'github-oidc':
      return githubOidcAdapter(options);
    case 'okta':
      return oktaAdapter(options);
    default:
      throw new AdapterError('UNKNOWN_SOURCE', `unknown source ${String(source)}`);
  }
}
