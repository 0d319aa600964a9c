export * from './ConfigError.js';
export * from './option.js';
export * from './loadConfig.js';
export * from './schemas.js';
export * from './commonOptions.js';
export * from './clientOptions.js';
export * from './optionsTable.js';
export * from './runService.js';
