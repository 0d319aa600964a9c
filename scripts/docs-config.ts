// Regenerates the configuration tables of README.md, docs/api.md, docs/caep.md, docs/adapters.md and docs/enforcement.md from the options
// specs of the services (each option is written once, in its service's config.ts or in
// @livescope/runtime's shared fragment), and the ACL table of docs/operations.md from
// infra/aclPlan.ts. Unit tests fail when a table is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { controlPlaneOptions } from '@livescope/control-plane';
import { agentOptions } from '@livescope/enforcer-agent';
import { ingestOptions, interopOptions } from '@livescope/interop';
import { commonOptions, optionsTable, ownOptions, replaceOptionsBlock, type OptionsSpec } from '@livescope/runtime';
import { workerOptions } from '@livescope/scope-worker';
import { aclPlan, aclTable } from '@livescope/infra/aclPlan';

const blocks: Array<[file: string, name: string, spec: OptionsSpec]> = [
  ['README.md', 'common', commonOptions],
  ['README.md', 'scope-worker', ownOptions(workerOptions, commonOptions)],
  ['docs/api.md', 'control-plane', ownOptions(controlPlaneOptions, commonOptions)],
  ['docs/caep.md', 'interop', ownOptions(interopOptions, commonOptions)],
  ['docs/adapters.md', 'ingest', ownOptions(ingestOptions, commonOptions)],
  ['docs/enforcement.md', 'enforcer-agent', agentOptions],
];

for (const [file, name, spec] of blocks) {
  const path = new URL(`../${file}`, import.meta.url);
  writeFileSync(path, replaceOptionsBlock(readFileSync(path, 'utf8'), name, optionsTable(spec)));
  process.stdout.write(`${file}: options:${name} regenerated (${Object.keys(spec).length} options)\n`);
}

// The ACL plan of the default prefix, per role, in docs/operations.md.
const ops = new URL('../docs/operations.md', import.meta.url);
const text = readFileSync(ops, 'utf8');
const open = '<!-- acl-plan -->';
const close = '<!-- /acl-plan -->';
if (!text.includes(open) || !text.includes(close)) throw new Error(`docs/operations.md lacks the ${open} … ${close} block`);
writeFileSync(ops, `${text.slice(0, text.indexOf(open) + open.length)}\n${aclTable(aclPlan({ topicPrefix: '' }))}\n${text.slice(text.indexOf(close))}`);
process.stdout.write('docs/operations.md: acl-plan regenerated\n');
