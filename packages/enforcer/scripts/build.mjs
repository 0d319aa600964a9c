// Builds the installable package: one ESM bundle (dist/index.js) with livescope's private packages
// (@livescope/contracts, transport, errors) inside it, so the published package depends only on
// public ones; and the declarations, the private packages' included, with their import specifiers
// rewritten to the files shipped (dist/types/…), re-exported from dist/index.d.ts.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Every public dependency stays an import; everything else (livescope's own packages) is bundled. */
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
const bundled = ['contracts', 'transport', 'errors'];

rmSync(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(root, 'src/index.ts')],
  outfile: join(dist, 'index.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['livescope-source'],
  external,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
const imported = new Set(Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && !i.path.startsWith('node:')).map((i) => i.path)));
for (const i of imported) if (!external.includes(i)) throw new Error(`the bundle imports ${i}, which is not a dependency`);

const tsc = spawnSync(process.execPath, [join(root, '../../node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.pack.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const types = join(dist, 'types');
const walk = (d) => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
for (const file of walk(types).filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(/(from |import\()(['"])@livescope\/([a-z-]+)\2/g, (all, lead, q, name) => {
    if (!bundled.includes(name)) throw new Error(`${file} imports @livescope/${name}, which is not bundled`);
    let rel = relative(dirname(file), join(types, name, 'src', 'index.js')).replaceAll('\\', '/');
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `${lead}${q}${rel}${q}`;
  });
  if (rewritten !== text) writeFileSync(file, rewritten);
}
writeFileSync(join(dist, 'index.d.ts'), "export * from './types/enforcer/src/index.js';\n");
process.stdout.write(`@livescope/enforcer: dist/index.js (${(statSync(join(dist, 'index.js')).size / 1024).toFixed(0)} KiB, bundles @livescope/${bundled.join(', @livescope/')}), external: ${[...imported].sort().join(', ')}\n`);
