/**
 * Child-process entry of `fallbackCorpus.unit.test.ts`, and the reproduction of issue 13 (Node 20
 * aborting with "unreachable code", exit code 133, on the fallback path): runs the whole shared
 * Cedar corpus (the 22 hand-written tests, then the 7,809 tests of corpus-tests.tar.gz) with every
 * policy on cedar-wasm (`fallback: 'all'`), and prints the tally as one JSON line last.
 *
 *   node --import tsx --conditions=livescope-source test/fallbackCorpusRun.ts [--shard K/N] [--requests N]
 *
 * `--shard K/N` runs every N-th test from the K-th (0-based), so N processes share the corpus.
 * `--requests N` stops after N requests (a quick reproduction). A V8 abort kills this process, so
 * the caller sees it as a signal or exit code 133 rather than a failed assertion.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_ROOT, directoryReader, emptyTally, runCorpusTest, type CorpusReader } from './corpusHarness.js';
import { readTarGz } from './readTarGz.js';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? '') : undefined;
}
const maxRequests = Number(option('--requests') ?? Infinity);
if (!(maxRequests > 0)) throw new Error(`--requests wants a positive number, got ${option('--requests')}`);
const [shard, shards] = (option('--shard') ?? '0/1').split('/').map(Number) as [number, number];
if (!(Number.isInteger(shard) && Number.isInteger(shards) && shard >= 0 && shard < shards)) throw new Error(`--shard wants K/N with 0 <= K < N, got ${option('--shard')}`);

const started = performance.now();
const tally = emptyTally();
const onDisk = directoryReader(CORPUS_ROOT);
const jobs: { read: CorpusReader; file: string }[] = [];
for (const dir of readdirSync(join(CORPUS_ROOT, 'tests')).sort()) {
  for (const f of readdirSync(join(CORPUS_ROOT, 'tests', dir)).filter((n) => n.endsWith('.json')).sort()) jobs.push({ read: onDisk, file: `tests/${dir}/${f}` });
}
const archive = readTarGz(join(CORPUS_ROOT, 'corpus-tests.tar.gz'));
const fromArchive: CorpusReader = (path) => {
  const f = archive.get(path);
  if (!f) throw new Error(`not in the archive: ${path}`);
  return f.toString('utf8');
};
for (const file of [...archive.keys()].filter((n) => n.endsWith('.json') && !n.endsWith('.entities.json')).sort()) jobs.push({ read: fromArchive, file });

for (let i = shard; i < jobs.length && tally.requests < maxRequests; i += shards) {
  const job = jobs[i] as (typeof jobs)[number];
  runCorpusTest(job.read, job.file, tally, 'all');
}

const { fallbackReasons: _reasons, mismatches, ...counts } = tally;
console.log(JSON.stringify({ ...counts, mismatchCount: mismatches.length, mismatches: mismatches.slice(0, 5), ms: Math.round(performance.now() - started) }));
