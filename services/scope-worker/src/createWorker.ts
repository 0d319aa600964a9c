import { kafkaConnection, registryAuth } from '@livescope/runtime';
import { ScopeEngine, type PolicyCompiler } from '@livescope/scope-engine';
import { Store } from '@livescope/store';
import { CommandSigner, createKafka, createProducer, parsePrivateKey, ProducerKeyring, SchemaRegistryClient, type Logger } from '@livescope/transport';
import type { WorkerConfig } from './config.js';
import { releaseWindowVerifier } from './releaseWindowVerifier.js';
import type { PartitionFaults } from './PartitionRunner.js';
import { ScopeWorker } from './ScopeWorker.js';
import { WorkerMetrics } from './WorkerMetrics.js';

/** Builds a worker and its clients from configuration (used by main and by tests in-process). */
export async function createWorker(config: WorkerConfig, logger: Logger, compilePolicies: PolicyCompiler, faults?: PartitionFaults): Promise<{ worker: ScopeWorker; store: Store; metrics: WorkerMetrics; registry: SchemaRegistryClient }> {
  // Parsed before anything connects: a bad keyring is a configuration error.
  const keyring = ProducerKeyring.fromJson(config.producerKeys);
  const metrics = new WorkerMetrics();
  const store = await Store.open({ connectionString: config.pgUrl, schema: config.pgSchema, applicationName: `livescope-worker ${config.workerId}` });
  const kafka = createKafka({ ...kafkaConnection(config), clientId: `livescope-worker-${config.workerId}`, logger });
  const registry = new SchemaRegistryClient(config.registryUrl, registryAuth(config));
  const verifyReleaseWindow = releaseWindowVerifier(config.releaseSigners);
  const signer = new CommandSigner(parsePrivateKey(config.signingKeyId, config.signingKey), config.signingKeyEpoch);
  const worker = new ScopeWorker({
    config,
    logger,
    kafka,
    producer: createProducer(kafka),
    registry,
    store,
    metrics,
    signer,
    keyring,
    ...(faults ? { faults } : {}),
    createEngine: () =>
      new ScopeEngine({
        compilePolicies,
        verifyReleaseWindow,
        config: { excessPrivilegeWindowMs: config.excessPrivilegeWindowMs, maxFutureSkewMs: config.maxFutureSkewMs, maxControlEventAgeMs: config.maxControlEventAgeMs, snapshotIntervalMs: config.snapshotIntervalMs },
      }),
  });
  return { worker, store, metrics, registry };
}
