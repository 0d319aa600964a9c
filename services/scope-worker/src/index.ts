export * from './config.js';
export * from './createWorker.js';
export * from './ScopeWorker.js';
export * from './PartitionRunner.js';
export * from './WorkerMetrics.js';
export * from './releaseWindowVerifier.js';
