// @ts-check
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';

/** Packages that hold pure logic: no I/O, no process access, no clients of external systems. */
const corePackages = ['packages/contracts', 'packages/policy', 'packages/scope-engine', 'packages/adapters', 'packages/caep'];

const ioModules = [
  'kafkajs',
  '@kafkajs/*',
  'pg',
  'pg-*',
  'pino',
  'pino-*',
  'fastify',
  '@fastify/*',
  'prom-client',
  'node:*',
  'fs',
  'net',
  'http',
  'https',
  'child_process',
  'os',
  'worker_threads',
  '@livescope/transport',
  '@livescope/store',
];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'services/control-plane/console/**/*.js', '**/*.config.*', 'config/**', '**/vendor/**'],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'import-x/no-cycle': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@livescope/*/src/*', '**/packages/*/src/*', '**/services/*/src/*'], message: 'Import another package through its public entry point, never its src/.' },
          ],
        },
      ],
    },
  },
  {
    files: corePackages.map((p) => `${p}/src/**/*.ts`),
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ioModules, message: 'Core packages are pure: no I/O imports (see STYLE.md). Put I/O in an adapter package or a service.' },
            { group: ['@livescope/*/src/*', '**/packages/*/src/*'], message: 'Import another package through its public entry point.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Core packages never read process state; take it as a parameter.' }, { name: 'fetch', message: 'Core packages do no I/O.' }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
