import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Options every benchmark understands: `--smoke` runs tiny sizes so CI keeps the code alive. */
export interface BenchArgs {
  readonly smoke: boolean;
  readonly record: boolean;
  readonly argv: readonly string[];
}

export function parseBenchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const smoke = argv.includes('--smoke') || process.env.LIVESCOPE_BENCH_SMOKE === '1';
  // Smoke runs never write to docs/benchmarks.md unless asked to.
  const record = argv.includes('--record') || (!smoke && !argv.includes('--no-record'));
  return { smoke, record, argv };
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kafka: string;
}

export function machineInfo(kafkaVersion = process.env.LIVESCOPE_KAFKA_VERSION ?? 'n/a'): MachineInfo {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kafka: kafkaVersion,
  };
}

/** Progress on stderr, so tables on stdout stay clean. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export type Row = Record<string, string | number>;

export function formatTable(rows: readonly Row[]): string {
  const first = rows[0];
  if (!first) return '(no rows)\n';
  const headers = Object.keys(first);
  const cell = (v: string | number | undefined): string => (typeof v === 'number' ? formatNumber(v) : (v ?? ''));
  const lines = [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${headers.map((h) => cell(r[h])).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

export interface BenchReport {
  readonly name: string;
  readonly command: string;
  /** Free text: data sizes, batch layout, client settings. */
  readonly setup: string;
  readonly rows: readonly Row[];
  /** One line per target: what it is, the measured ratio or figure, met or not. */
  readonly verdicts?: readonly string[];
}

const docsPath = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

/** Prints the report and, when recording, appends it with the machine and the date to docs/benchmarks.md. */
export function publish(report: BenchReport, args: BenchArgs): void {
  const machine = machineInfo();
  const table = formatTable(report.rows);
  const verdicts = (report.verdicts ?? []).map((v) => `- ${v}`).join('\n');
  process.stdout.write(`\n## ${report.name}\n${report.setup}\n\n${table}${verdicts ? `\n${verdicts}\n` : ''}`);
  if (!args.record) return;
  if (!existsSync(docsPath)) writeFileSync(docsPath, '# Benchmarks\n\nAppended by `npm run bench`; newest last. Every figure that matters is a ratio against a baseline measured in the same run.\n');
  const header = readFileSync(docsPath, 'utf8').endsWith('\n') ? '' : '\n';
  appendFileSync(
    docsPath,
    `${header}\n### ${report.name} — ${new Date().toISOString()}\n\n` +
      `Command: \`${report.command}\`  \n` +
      `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, Kafka ${machine.kafka}  \n` +
      `Setup: ${report.setup}\n\n${table}${verdicts ? `\n${verdicts}\n` : ''}`,
  );
}

/** Percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
