import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnforcerError } from './EnforcerError.js';
import { loadHighWater, saveHighWater } from './HighWaterFile.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'livescope-hw-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (EnforcerError.is(e) ? `${e.code}/${e.classification}` : 'other'),
  );

describe('high-water file', () => {
  it('is written atomically (no temporary file left) and read back, any identity id included', async () => {
    const path = join(dir, 'hw.json');
    await saveHighWater(path, { enforcerId: 'gw-1', snapshotsTopic: 't.snapshots', writtenAt: '2026-11-28T12:00:00.000Z', versions: [['sa-1', 5], ['__proto__', 2], ['spiffe://x/y', 9]] });
    expect(await readdir(dir)).toEqual(['hw.json']);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ format: 'livescope.enforcer.high-water.v1', enforcerId: 'gw-1' });
    const loaded = await loadHighWater(path, 't.snapshots');
    expect([...loaded]).toEqual([['sa-1', 5], ['__proto__', 2], ['spiffe://x/y', 9]]);
    // Rewritten: replaced whole.
    await saveHighWater(path, { enforcerId: 'gw-1', snapshotsTopic: 't.snapshots', writtenAt: '2026-11-28T12:00:05.000Z', versions: [['sa-1', 6]] });
    expect([...(await loadHighWater(path, 't.snapshots'))]).toEqual([['sa-1', 6]]);
  });

  it('a missing file is a first start (empty)', async () => {
    expect((await loadHighWater(join(dir, 'none.json'), 't.snapshots')).size).toBe(0);
  });

  it('refuses (fatal) a file that is not one, or that was written for another snapshot topic', async () => {
    const path = join(dir, 'hw.json');
    await writeFile(path, '{"format":"livescope.enforcer.high-water.v1","versions":[["sa-1",');
    expect(await codeOf(loadHighWater(path, 't.snapshots'))).toBe('HIGH_WATER_FILE_INVALID/fatal');
    await writeFile(path, JSON.stringify({ format: 'livescope.enforcer.high-water.v1', enforcerId: 'gw', snapshotsTopic: 't.snapshots', writtenAt: 'x', versions: [['sa-1', -1]] }));
    expect(await codeOf(loadHighWater(path, 't.snapshots'))).toBe('HIGH_WATER_FILE_INVALID/fatal');
    await saveHighWater(path, { enforcerId: 'gw-1', snapshotsTopic: 'other.snapshots', writtenAt: 'x', versions: [] });
    expect(await codeOf(loadHighWater(path, 't.snapshots'))).toBe('HIGH_WATER_FILE_INVALID/fatal');
  });

  it('a write that fails is a transient error and leaves no temporary file', async () => {
    const path = join(dir, 'missing-dir', 'hw.json');
    expect(await codeOf(saveHighWater(path, { enforcerId: 'gw-1', snapshotsTopic: 't', writtenAt: 'x', versions: [] }))).toBe('HIGH_WATER_FILE_UNWRITABLE/transient');
    expect(await readdir(dir)).toEqual([]);
  });
});
