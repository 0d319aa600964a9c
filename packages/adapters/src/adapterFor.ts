import { AdapterError } from './common/AdapterError.js';
import type { CommonAdapterOptions } from './common/AdapterOptions.js';
import type { RecordAdapter, SourceName } from './common/MappingResult.js';
import { cloudTrailAdapter } from './cloudtrail/cloudTrailAdapter.js';
import { entraAdapter } from './entra/entraAdapter.js';
import { gcpAuditAdapter } from './gcp-audit/gcpAuditAdapter.js';
import { githubOidcAdapter } from './github-oidc/githubOidcAdapter.js';
import type { K8sPrincipalRules } from './k8s/k8sIdentity.js';
import { k8sAdapter } from './k8s/k8sAdapter.js';
import { oktaAdapter } from './okta/oktaAdapter.js';
import { vaultAdapter } from './vault/vaultAdapter.js';

/** Options every family takes, plus the Kubernetes rules for machine and human users. */
export type AnyAdapterOptions = Partial<CommonAdapterOptions> & Partial<K8sPrincipalRules>;

/** The adapter of a source family, with the options common to every family. */
export function adapterFor(source: SourceName, options: AnyAdapterOptions = {}): RecordAdapter<unknown> {
  const { machineUsers, humanUsers, ...common } = options;
  switch (source) {
    case 'vault':
      return vaultAdapter(common);
    case 'k8s':
      return k8sAdapter({ ...common, ...(machineUsers ? { machineUsers } : {}), ...(humanUsers ? { humanUsers } : {}) });
    case 'cloudtrail':
      return cloudTrailAdapter(common);
    case 'github-oidc':
      return githubOidcAdapter(common);
    case 'okta':
      return oktaAdapter(common);
    case 'gcp-audit':
      return gcpAuditAdapter(common);
    case 'entra':
      return entraAdapter(common);
    default:
      throw new AdapterError('UNKNOWN_SOURCE', `unknown source ${String(source)}`);
  }
}
