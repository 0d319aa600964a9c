import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { PolicyFileText } from '@livescope/scope-engine';
import { UsageError } from './parse.js';

/**
 * A policy directory as `livescope policy` reads it: every `*.cedar` file directly in the directory
 * is one file of the set (id = file name without `.cedar`, sorted by name; subdirectories are not
 * part of the set), and test files (`*.test.json`) live under `tests/` unless given elsewhere.
 */
export interface PolicyDir {
  readonly dir: string;
  readonly files: PolicyFileText[];
  /** id → path, for messages. */
  readonly paths: ReadonlyMap<string, string>;
}

export function readPolicyDir(dir: string): PolicyDir {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: not a directory of .cedar files`);
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.cedar') && statSync(join(dir, f)).isFile())
    .sort();
  if (names.length === 0) throw new UsageError(`${dir}: no .cedar file in this directory`);
  const paths = new Map<string, string>();
  const files = names.map((f) => {
    const id = f.slice(0, -'.cedar'.length);
    paths.set(id, join(dir, f));
    return { id, text: readFileSync(join(dir, f), 'utf8') };
  });
  return { dir, files, paths };
}

/** Every `*.test.json` file at `path` (a file, or a directory searched recursively), sorted; names relative to `base`. */
export function readTestFiles(path: string, base = path): { name: string; content: unknown }[] {
  if (!existsSync(path)) throw new UsageError(`${path}: no such test file or directory`);
  const out: { name: string; content: unknown }[] = [];
  const visit = (p: string, depth: number): void => {
    if (depth > 8) return;
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) visit(join(p, f), depth + 1);
      return;
    }
    if (!p.endsWith('.test.json') && p !== path) return;
    let content: unknown;
    try {
      content = JSON.parse(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new UsageError(`${p}: not JSON (${(e as Error).message})`);
    }
    out.push({ name: relative(base, p) || p, content });
  };
  visit(path, 0);
  if (out.length === 0) throw new UsageError(`${path}: no *.test.json file`);
  return out;
}

/** `FROM`/`TO` of `policy diff`: a directory, a version number, or `current` (the set in force). */
export type SetArg = { kind: 'dir'; dir: PolicyDir } | { kind: 'version'; version: number } | { kind: 'current' };

export function parseSetArg(arg: string): SetArg {
  if (arg === 'current') return { kind: 'current' };
  if (/^\d+$/.test(arg) && !existsSync(arg)) return { kind: 'version', version: Number(arg) };
  return { kind: 'dir', dir: readPolicyDir(arg) };
}
