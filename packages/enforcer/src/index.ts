export * from './EnforcerState.js';
export * from './PartitionLiveness.js';
export * from './PermissionIds.js';
export * from './DecisionAggregator.js';
export * from './Enforcer.js';
export * from './EnforcerError.js';
export * from './CommandProcessor.js';
export * from './AckBuffer.js';
export * from './Acknowledger.js';
export * from './HighWaterFile.js';
export * from './decisionReports.js';
export * from './middleware.js';
export * from './EnforcerMetrics.js';
// What a host needs to configure the SDK (bundled into the published package with the rest).
export { createLogger, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from '@livescope/transport';
export type { KafkaSaslOptions, KafkaSslOptions, Logger, RegistryClientOptions, SigningKey, VerifyingKey } from '@livescope/transport';
export type { DriftAlert, Revocation, ScopeChange, ScopeSnapshot } from '@livescope/contracts';
