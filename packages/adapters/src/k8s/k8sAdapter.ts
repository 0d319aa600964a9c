import { defaultCommonOptions, withDefaults } from '../common/AdapterOptions.js';
import { BoundedMap } from '../common/BoundedMap.js';
import { notJson, sourced } from '../common/createMapper.js';
import { IdentityAnnouncer } from '../common/IdentityAnnouncer.js';
import { LinearToken } from '../common/LinearToken.js';
import { announceIdentities } from '../common/Mapped.js';
import type { AdapterContext, AdapterInput, RecordAdapter, SourcedResult, Step } from '../common/MappingResult.js';
import { invalidRecord } from '../common/zodIssues.js';
import { K8sAuditEvent, K8sEventList, type PolicyRule } from './K8sAuditEvent.js';
import { mapK8sEvent, unsupportedKind, type BindingMemory, type K8sMemoryUpdate, type K8sMemoryView, type K8sOptions } from './mapK8sEvent.js';

export const defaultK8sOptions: K8sOptions = {
  ...defaultCommonOptions,
  enforcerId: 'kube-apiserver',
  machineUsers: [],
  humanUsers: [],
  defaultTokenTtlMs: 3_600_000,
  activityVerbs: 'all-but-watch',
  implicitSessions: true,
};

export interface K8sState {
  readonly token: LinearToken;
  readonly roles: BoundedMap<string, readonly PolicyRule[]>;
  readonly bindings: BoundedMap<string, BindingMemory>;
  readonly pods: BoundedMap<string, string>;
  readonly credentials: BoundedMap<string, true>;
  readonly announcer: IdentityAnnouncer;
}

/**
 * Kubernetes audit log (`audit.k8s.io/v1` and `v1beta1` Events, one per line, or the webhook
 * backend's EventList batches) → livescope events.
 */
export function k8sAdapter(given?: Partial<K8sOptions>): RecordAdapter<K8sState> {
  const options = withDefaults(defaultK8sOptions, given);
  const view = (s: K8sState): K8sMemoryView => ({
    roleRules: (k) => s.roles.get(k),
    binding: (id) => s.bindings.get(id),
    bindingsOfRole: (k) => s.bindings.entries().filter(([, b]) => b.roleKey === k).map(([, b]) => b),
    podServiceAccount: (ns, pod) => s.pods.get(`${ns}/${pod}`),
    credentialKnown: (id) => s.credentials.has(id),
  });
  const apply = (s: K8sState, updates: readonly K8sMemoryUpdate[]): void => {
    for (const u of updates) {
      switch (u.kind) {
        case 'role':
          s.roles.set(u.roleKey, u.rules);
          break;
        case 'role-deleted':
          s.roles.delete(u.roleKey);
          break;
        case 'binding':
          s.bindings.set(u.binding.grantId, u.binding);
          break;
        case 'binding-deleted':
          s.bindings.delete(u.grantId);
          break;
        case 'pod':
          s.pods.set(`${u.namespace}/${u.pod}`, u.identityId);
          break;
        case 'credential':
          s.credentials.set(u.credentialId, true);
          break;
      }
    }
  };
  const mapOne = (s: K8sState, value: unknown, raw: string, ctx: AdapterContext): SourcedResult => {
    const parsed = K8sAuditEvent.safeParse(value);
    if (!parsed.success) {
      const kind = (value as { kind?: unknown } | null)?.kind;
      if (kind !== undefined && kind !== 'Event') return sourced(raw, unsupportedKind(kind));
      return sourced(raw, invalidRecord('not a Kubernetes audit event', parsed.error));
    }
    const m = mapK8sEvent(parsed.data, view(s), options, ctx);
    apply(s, m.updates);
    return sourced(raw, announceIdentities(m.mapped, s.announcer));
  };
  return {
    source: 'k8s',
    initialState: () => ({
      token: new LinearToken(),
      roles: new BoundedMap(options.memoryEntries),
      bindings: new BoundedMap(options.memoryEntries),
      pods: new BoundedMap(options.memoryEntries),
      credentials: new BoundedMap(options.memoryEntries),
      announcer: new IdentityAnnouncer(options.announce, options.owner, options.memoryEntries),
    }),
    step(state: K8sState, input: AdapterInput, ctx: AdapterContext): Step<K8sState> {
      const s: K8sState = { ...state, token: state.token.consume() };
      if (!input.parsed.ok) return { state: s, results: [notJson(input.raw, input.parsed.error)] };
      const list = K8sEventList.safeParse(input.parsed.value);
      if (list.success) return { state: s, results: list.data.items.map((item) => mapOne(s, item, JSON.stringify(item), ctx)) };
      return { state: s, results: [mapOne(s, input.parsed.value, input.raw, ctx)] };
    },
    flush: (state: K8sState): Step<K8sState> => ({ state: { ...state, token: state.token.consume() }, results: [] }),
  };
}
