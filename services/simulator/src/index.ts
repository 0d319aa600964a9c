export * from './random.js';
export * from './fleet.js';
export * from './traffic.js';
export * from './scenarios.js';
export * from './feed.js';
export * from './policyFiles.js';
export * from './load.js';
