import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnforcerError } from './EnforcerError.js';

const FORMAT = 'livescope.enforcer.high-water.v1';

/** What the high-water file holds: the highest scope version applied per identity, for one snapshot topic. */
export interface HighWaterRecord {
  readonly format: typeof FORMAT;
  readonly enforcerId: string;
  /** The snapshot topic the versions come from: a file written for another pipeline is refused. */
  readonly snapshotsTopic: string;
  readonly writtenAt: string;
  /** [identityId, version] pairs (pairs, not an object: an identity id may be any printable string, `__proto__` included). */
  readonly versions: readonly (readonly [string, number])[];
}

/**
 * Reads the high-water file. A missing file is an empty map (first start). A file that cannot be
 * read as one, or that was written for another snapshot topic, is a fatal `HIGH_WATER_FILE_INVALID`:
 * starting without it would silently give up the protection it exists for.
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
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (e) {
    throw invalid('not JSON', e);
  }
  const r = record as Partial<HighWaterRecord> | null;
  if (typeof r !== 'object' || r === null || r.format !== FORMAT) throw invalid(`format is not ${FORMAT}`);
  if (r.snapshotsTopic !== snapshotsTopic) throw invalid(`written for snapshot topic ${String(r.snapshotsTopic).slice(0, 256)}, not ${snapshotsTopic}`);
  if (!Array.isArray(r.versions)) throw invalid('no versions');
  const out = new Map<string, number>();
  for (const pair of r.versions as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !Number.isSafeInteger(pair[1]) || (pair[1] as number) < 1) throw invalid('a version entry is not [identityId, positive integer]');
    const [id, version] = pair as [string, number];
    if (version > (out.get(id) ?? 0)) out.set(id, version);
  }
  return out;
}

/**
 * Writes the file atomically: a temporary file beside it is written and flushed to disk, then
 * renamed over it, so a crash leaves either the old file or the new one, never half of one.
 */
export async function saveHighWater(path: string, record: Omit<HighWaterRecord, 'format'>): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  const body = JSON.stringify({ format: FORMAT, ...record });
  try {
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(body, 'utf8');
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
}
