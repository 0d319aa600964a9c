export * from './EnforcerState.js';
export * from './DecisionAggregator.js';
export * from './Enforcer.js';
export * from './middleware.js';
export * from './EnforcerMetrics.js';
