#!/usr/bin/env node
// The `livescope` command. npm links a workspace bin only when its target exists at install time,
// so the bin is this committed launcher: it runs the build (dist/) when there is one, and otherwise
// the TypeScript sources through tsx with the workspace's `livescope-source` export condition, so
// `npx livescope` works right after `npm install`, before any build.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/main.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write('livescope: the CLI is not built (npm run build -w @livescope/cli) and tsx, which runs it from its sources, is not installed (npm install)\n');
    process.exit(1);
  }
  // Workspace packages resolve to their TypeScript sources, as in the tests; tsx compiles them.
  register(new URL('./sourceConditions.js', import.meta.url));
  tsx.register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
