export * from './TransportError.js';
export * from './createLogger.js';
export * from './createKafka.js';
export * from './SchemaRegistryClient.js';
export * from './CommandSigner.js';
export * from './EventPublisher.js';
export * from './partitionForKey.js';
export * from './ensureTopics.js';
