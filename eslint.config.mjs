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
      // Cycles only matter among our own modules; walking into a dependency's (lru-cache's subpath imports) only fails.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
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
    // The control plane is organised by feature (services/control-plane/src/features/<name>): a
    // feature reaches another only through its index.ts, and shared code depends on no feature.
    files: ['services/control-plane/src/features/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@livescope/*/src/*', '**/packages/*/src/*', '**/services/*/src/*'], message: 'Import another package through its public entry point, never its src/.' },
            { regex: '^\\.\\./(?!\\.\\.)[^/]+/(?!index\\.js$)', message: "Reach another feature through its index.ts (its service interface), never its internals." },
          ],
        },
      ],
    },
  },
  {
    files: ['services/control-plane/src/{auth,audit,events,http,kafka,persistence,tracking}/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@livescope/*/src/*', '**/packages/*/src/*', '**/services/*/src/*'], message: 'Import another package through its public entry point, never its src/.' },
            { regex: '/features/', message: 'Shared code of the control plane depends on no feature: pass what it needs in.' },
          ],
        },
      ],
    },
  },
  {
    // The CLI is a client of the control plane's HTTP API: it may use its API types, never its code.
    files: ['packages/cli/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@livescope/control-plane', '@livescope/control-plane/*'], allowTypeImports: true, message: 'The CLI reaches the control plane over HTTP only: `import type` its API types (@livescope/control-plane/api-types), never its code.' },
          ],
        },
      ],
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
