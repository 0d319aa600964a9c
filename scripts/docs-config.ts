// Regenerates the configuration tables of README.md, docs/api.md and docs/caep.md from the options
// specs of the services (each option is written once, in its service's config.ts or in
// @livescope/runtime's shared fragment). The services' unit tests fail when a table is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { controlPlaneOptions } from '@livescope/control-plane';
import { interopOptions } from '@livescope/interop';
import { commonOptions, optionsTable, ownOptions, replaceOptionsBlock, type OptionsSpec } from '@livescope/runtime';
import { workerOptions } from '@livescope/scope-worker';

const blocks: Array<[file: string, name: string, spec: OptionsSpec]> = [
  ['README.md', 'common', commonOptions],
  ['README.md', 'scope-worker', ownOptions(workerOptions, commonOptions)],
  ['docs/api.md', 'control-plane', ownOptions(controlPlaneOptions, commonOptions)],
  ['docs/caep.md', 'interop', ownOptions(interopOptions, commonOptions)],
];

for (const [file, name, spec] of blocks) {
  const path = new URL(`../${file}`, import.meta.url);
  writeFileSync(path, replaceOptionsBlock(readFileSync(path, 'utf8'), name, optionsTable(spec)));
  process.stdout.write(`${file}: options:${name} regenerated (${Object.keys(spec).length} options)\n`);
}
