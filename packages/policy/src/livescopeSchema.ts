/**
 * The livescope runtime-policy model as a Cedar schema. The text is kept identical to
 * `schema/livescope.cedarschema` (a unit test compares them): a core package reads no files at run
 * time, so the engine and the worker validate against this constant.
 */
export const livescopeSchemaText = `// The livescope runtime-policy model: what the scope pipeline gives Cedar policies.
// Kept identical to livescopeSchemaText in src/livescopeSchema.ts (a unit test checks it).
namespace Livescope {
  // A role granted to an identity; identities are "in" the roles they hold.
  entity Role;

  // The principal: a non-human identity. Labels are tags with String values.
  entity Identity in [Role] = {
    // "agent" | "workload" | "service-account" | "ci-job"
    kind: String,
    name: String,
    namespace: String,
    owner: String,
    // 0..100
    riskScore: Long,
    // "active" | "disabled"
    status: String,
  } tags String;

  // What a permission is on. Labels are tags with String values.
  entity Resource = {
    type: String,
    system: String,
    namespace?: String,
  } tags String;

  type Session = {
    active: Bool,
    count: Long,
    mfa: Bool,
    tasks: Set<String>,
  };

  // How the permission under evaluation was provisioned.
  type Grant = {
    jit: Bool,
    roles: Set<String>,
  };

  type RuntimeContext = {
    // The evaluation instant.
    now: datetime,
    session: Session,
    // Names of live approved escalations, e.g. "secret-retrieval" (seen from a session: also those given for it).
    approvals: Set<String>,
    // The same, approved by a person verified by the human identity provider (require these in policies).
    humanApprovals: Set<String>,
    riskScore: Long,
    // Kinds of live anomalies.
    anomalies: Set<String>,
    humanUseDetected: Bool,
    // Namespaces with an open signed release window at now.
    releaseWindows: Set<String>,
    incidentNamespaces: Set<String>,
    grant: Grant,
  };

  // Action groups: every action has exactly one of them as parent.
  action "access:read", "access:write", "access:admin";

  action "k8s:read", "tickets:read", "secrets:read", "db:read", "vault:read" in [Action::"access:read"]
    appliesTo { principal: [Identity], resource: [Resource], context: RuntimeContext };

  action "k8s:deploy", "tickets:write", "db:write", "tool:invoke" in [Action::"access:write"]
    appliesTo { principal: [Identity], resource: [Resource], context: RuntimeContext };

  action "k8s:admin", "db:admin", "vault:admin", "console:admin" in [Action::"access:admin"]
    appliesTo { principal: [Identity], resource: [Resource], context: RuntimeContext };
}
`;

/** Entity type names of the livescope model. */
export const LivescopeTypes = {
  identity: 'Livescope::Identity',
  role: 'Livescope::Role',
  resource: 'Livescope::Resource',
  action: 'Livescope::Action',
} as const;

/** The action group (`Livescope::Action::"access:<access>"`) each action must have as its one parent. */
export function accessGroupId(access: 'read' | 'write' | 'admin'): string {
  return `access:${access}`;
}
