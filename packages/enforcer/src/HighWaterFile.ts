import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnforcerError } from './EnforcerError.js';

const FORMAT = 'livescope.enforcer.high-water.v1';
/** Lines written per chunk: the event loop (and `authorize()` callers) gets a turn between chunks. */
const LINES_PER_CHUNK = 10_000;
const LINE = /^([1-9]\d{0,15}) ([\x21-\x7e]{1,256})$/;
const END = /^end (\d{1,12})$/;

/** The first line of the high-water file. */
export interface HighWaterHeader {
  readonly format: typeof FORMAT;
  readonly enforcerId: string;
  /** The snapshot topic the versions come from: a file written for another pipeline is refused. */
  readonly snapshotsTopic: string;
  readonly writtenAt: string;
}

/**
 * The high-water file: the highest scope version applied per identity. A JSON header line, then one
 * `<version> <identityId>` line per identity (identity ids are printable ASCII without spaces), then
 * `end <count>` — so a file cut short is told from a complete one.
 *
 * Reads it. A missing file is an empty map (first start). A file that cannot be read as one, or that
 * was written for another snapshot topic, is a fatal `HIGH_WATER_FILE_INVALID`: starting without it
 * would silently give up the protection it exists for.
 */
export async function loadHighWater(path: string, snapshotsTopic: string): Promise<Map<string, number>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new EnforcerError('HIGH_WATER_FILE_INVALID', 'fatal', `the high-water file ${path} cannot be read`, { cause: e, context: { path } });
  }
  const invalid = (why: string, cause?: unknown): EnforcerError =>
    new EnforcerError('HIGH_WATER_FILE_INVALID', 'fatal', `the high-water file ${path} is not valid (${why}); remove it to start without rollback protection from it`, { ...(cause === undefined ? {} : { cause }), context: { path } });
  const lines = text.split('\n');
  let header: Partial<HighWaterHeader> | null;
  try {
    header = JSON.parse(lines[0] ?? '') as Partial<HighWaterHeader> | null;
  } catch (e) {
    throw invalid('its first line is not a JSON header', e);
  }
  if (typeof header !== 'object' || header === null || header.format !== FORMAT) throw invalid(`format is not ${FORMAT}`);
  if (header.snapshotsTopic !== snapshotsTopic) throw invalid(`written for snapshot topic ${String(header.snapshotsTopic).slice(0, 256)}, not ${snapshotsTopic}`);
  // The last line is empty (the file ends with a newline); the one before it closes the file.
  if (lines[lines.length - 1] !== '') throw invalid('it does not end with a newline (cut short)');
  const end = END.exec(lines[lines.length - 2] ?? '');
  if (!end) throw invalid('no end line (cut short)');
  const count = lines.length - 3;
  if (Number(end[1]) !== count) throw invalid(`its end line counts ${end[1]} entries, it holds ${count}`);
  const out = new Map<string, number>();
  for (let i = 1; i <= count; i++) {
    const m = LINE.exec(lines[i]!);
    if (!m) throw invalid(`line ${i + 1} is not "<version> <identityId>"`);
    const version = Number(m[1]);
    if (!Number.isSafeInteger(version)) throw invalid(`line ${i + 1} holds no valid version`);
    if (version > (out.get(m[2]!) ?? 0)) out.set(m[2]!, version);
  }
  return out;
}

/**
 * Writes the file atomically: a temporary file beside it is written (in chunks, yielding between
 * them, so a large fleet does not stall the event loop) and flushed to disk, then renamed over it,
 * so a crash leaves either the old file or the new one, never half of one. `versions` may be a live
 * view of changing maps: an entry is written with the value it has when reached. Returns the
 * number of entries written.
 */
export async function saveHighWater(path: string, header: Omit<HighWaterHeader, 'format'>, versions: Iterable<readonly [string, number]>): Promise<number> {
  const temp = `${path}.${process.pid}.tmp`;
  let count = 0;
  try {
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.write(`${JSON.stringify({ format: FORMAT, ...header })}\n`);
      let chunk: string[] = [];
      for (const [id, version] of versions) {
        chunk.push(`${version} ${id}\n`);
        count++;
        if (chunk.length === LINES_PER_CHUNK) {
          await handle.write(chunk.join(''));
          chunk = [];
        }
      }
      await handle.write(`${chunk.join('')}end ${count}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    // The rename itself is durable once the directory is flushed (not every platform allows opening one).
    const dir = await open(dirname(path), 'r').catch(() => undefined);
    await dir?.sync().catch(() => undefined);
    await dir?.close();
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw new EnforcerError('HIGH_WATER_FILE_UNWRITABLE', 'transient', `the high-water file ${path} could not be written`, { cause: e, context: { path } });
  }
  return count;
}
