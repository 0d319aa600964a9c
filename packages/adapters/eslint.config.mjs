// @ts-check
// The repository's rules, plus purity for this package: mapping code imports no I/O (see STYLE.md).
import root from '../../eslint.config.mjs';

export default [
  ...root,
  {
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['kafkajs', '@kafkajs/*', 'pg', 'pg-*', 'pino', 'pino-*', 'fastify', '@fastify/*', 'prom-client', 'node:*', 'fs', 'net', 'http', 'https', 'child_process', 'os', 'worker_threads', '@livescope/transport', '@livescope/store'], message: 'Adapters are pure mappings: no I/O imports. Put I/O in services/interop.' },
            { group: ['@livescope/*/src/*', '**/packages/*/src/*'], message: 'Import another package through its public entry point.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Pure code never reads process state; take it as a parameter.' }, { name: 'fetch', message: 'Pure code does no I/O.' }],
    },
  },
];
