import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnforcerError } from './EnforcerError.js';
import { loadHighWater, saveHighWater } from './HighWaterFile.js';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'livescope-hw-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

const header = { enforcerId: 'gw-1', snapshotsTopic: 't.snapshots', writtenAt: '2026-11-28T12:00:00.000Z' };
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (EnforcerError.is(e) ? `${e.code}/${e.classification}` : 'other'),
  );

describe('high-water file', () => {
  it('is written atomically (no temporary file left) and read back, any identity id included', async () => {
    const path = join(dir, 'hw.json');
    expect(await saveHighWater(path, header, [['sa-1', 5], ['__proto__', 2], ['spiffe://x/y', 9]])).toBe(3);
    expect(await readdir(dir)).toEqual(['hw.json']);
    const text = await readFile(path, 'utf8');
    expect(JSON.parse(text.split('\n')[0]!)).toEqual({ format: 'livescope.enforcer.high-water.v1', ...header });
    expect(text.split('\n').slice(1)).toEqual(['5 sa-1', '2 __proto__', '9 spiffe://x/y', 'end 3', '']);
    expect([...(await loadHighWater(path, 't.snapshots'))]).toEqual([['sa-1', 5], ['__proto__', 2], ['spiffe://x/y', 9]]);
    // Rewritten: replaced whole.
    await saveHighWater(path, header, [['sa-1', 6]]);
    expect([...(await loadHighWater(path, 't.snapshots'))]).toEqual([['sa-1', 6]]);
  });

  it('writes a large fleet in chunks, from a live view of the versions', async () => {
    const path = join(dir, 'hw.json');
    const versions = new Map<string, number>(Array.from({ length: 25_000 }, (_, i) => [`sa-${i}`, 1 + (i % 7)] as const));
    expect(await saveHighWater(path, header, versions)).toBe(25_000);
    const loaded = await loadHighWater(path, 't.snapshots');
    expect(loaded.size).toBe(25_000);
    expect(loaded.get('sa-24999')).toBe(1 + (24_999 % 7));
  });

  it('a missing file is a first start (empty)', async () => {
    expect((await loadHighWater(join(dir, 'none.json'), 't.snapshots')).size).toBe(0);
  });

  it('refuses (fatal) a file that is not one, was cut short, or was written for another snapshot topic', async () => {
    const path = join(dir, 'hw.json');
    await saveHighWater(path, header, [['sa-1', 5], ['sa-2', 3]]);
    const whole = await readFile(path, 'utf8');
    for (const broken of [
      whole.slice(0, whole.indexOf('end')), // cut short
      whole.replace('end 2', 'end 3'),
      whole.replace('5 sa-1', '-5 sa-1'),
      whole.replace('5 sa-1', '5 sa 1'),
      `not json\n${whole.slice(whole.indexOf('\n') + 1)}`,
    ]) {
      await writeFile(path, broken);
      expect(await codeOf(loadHighWater(path, 't.snapshots'))).toBe('HIGH_WATER_FILE_INVALID/fatal');
    }
    await saveHighWater(path, { ...header, snapshotsTopic: 'other.snapshots' }, []);
    expect(await codeOf(loadHighWater(path, 't.snapshots'))).toBe('HIGH_WATER_FILE_INVALID/fatal');
  });

  it('a write that fails is a transient error and leaves no temporary file', async () => {
    const path = join(dir, 'missing-dir', 'hw.json');
    expect(await codeOf(saveHighWater(path, header, []))).toBe('HIGH_WATER_FILE_UNWRITABLE/transient');
    expect(await readdir(dir)).toEqual([]);
  });
});
