export * from './waitFor.js';
export * from './TopicTail.js';
export * from './PipelineFixture.js';
export * from './WorkerProcess.js';
export * from './TestIdentityProvider.js';
export * from './recordSpans.js';
