export * from './Store.js';
export * from './StoreError.js';
export * from './auditChain.js';
export * from './ChainVerifier.js';
export * from './readAuditHeads.js';
export * from './migrations.js';
