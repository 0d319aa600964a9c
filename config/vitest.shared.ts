import { defaultServerConditions } from 'vite';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * Shared Vitest settings. Workspace packages are resolved to their TypeScript sources through the
 * `livescope-source` export condition, so unit and integration tests never need a prior build.
 */
export type Tier = 'unit' | 'int' | 'e2e';

const includeByTier: Record<Tier, string[]> = {
  unit: ['src/**/*.unit.test.ts', 'test/**/*.unit.test.ts', '*.unit.test.ts'],
  int: ['src/**/*.int.test.ts', 'test/**/*.int.test.ts'],
  e2e: ['**/*.e2e.test.ts'],
};

/**
 * Vite's server conditions without `module`: that one picks bundler-only ESM builds, which Node then
 * fails to load (@opentelemetry's have extensionless imports). Tests resolve packages as Node does
 * in production.
 */
const serverConditions = ['livescope-source', ...defaultServerConditions.filter((c) => c !== 'module')];

export function tierConfig(tier: Tier, extra: ViteUserConfig = {}): ViteUserConfig {
  return defineConfig({
    ...extra,
    resolve: { conditions: serverConditions },
    ssr: { resolve: { conditions: serverConditions } },
    test: {
      include: includeByTier[tier],
      exclude: ['**/node_modules/**', '**/dist/**'],
      environment: 'node',
      // Timeouts only catch hangs: CI runs typecheck, lint and every package's unit tests at once on
      // 2 cores, where a cedar-wasm comparison that takes 2 s alone can take 15 s.
      testTimeout: tier === 'unit' ? 60_000 : 120_000,
      hookTimeout: tier === 'unit' ? 60_000 : 300_000,
      // Integration and end-to-end tests share one broker on a 2-core machine: run files one by one.
      fileParallelism: tier === 'unit',
      ...(tier === 'unit' ? {} : { globalSetup: [new URL('./vitest.infra-setup.ts', import.meta.url).pathname] }),
      passWithNoTests: tier !== 'unit',
      ...extra.test,
    },
  });
}
