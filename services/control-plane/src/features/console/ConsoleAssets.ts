import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, posix, resolve } from 'node:path';

/** A file of the console build to answer a request with. */
export interface ConsoleFile {
  /** Path relative to the build directory, `/`-separated. */
  readonly path: string;
  /** Vite's content-hashed assets never change under their name: cache them for good. */
  readonly immutable: boolean;
}

/**
 * Where the built web console (`@livescope/console`, `vite build`) lives, and which of its files
 * answers a request under /console/. Client-side routes (paths without an extension) get the
 * page; anything else must be a file of the build, and nothing outside it is ever served.
 */
export class ConsoleAssets {
  private constructor(
    /** Absolute build directory; undefined when the console is not available. */
    readonly root: string | undefined,
    /** Why it is not available. */
    readonly problem: string | undefined,
  ) {}

  /** `configured` (LIVESCOPE_CONSOLE_DIR) or the `dist` of the installed @livescope/console package. */
  static locate(configured: string | undefined): ConsoleAssets {
    let dir = configured;
    if (dir === undefined) {
      try {
        dir = join(dirname(createRequire(import.meta.url).resolve('@livescope/console/package.json')), 'dist');
      } catch {
        return new ConsoleAssets(undefined, 'the @livescope/console package is not installed');
      }
    }
    const root = resolve(dir);
    if (!existsSync(join(root, 'index.html'))) return new ConsoleAssets(undefined, `${join(root, 'index.html')} is missing: build the console (npm run build -w @livescope/console)`);
    return new ConsoleAssets(root, undefined);
  }

  static at(root: string): ConsoleAssets {
    return ConsoleAssets.locate(root);
  }

  /** The file answering `/console/<path>`; undefined when there is none (404). */
  fileFor(path: string): ConsoleFile | undefined {
    if (!this.root || path.includes('\0')) return undefined;
    const clean = posix.normalize(`/${decodeSafe(path)}`).replace(/^\/+/, '');
    if (clean.split('/').includes('..')) return undefined;
    if (clean !== '' && clean !== 'index.html') {
      const abs = join(this.root, clean);
      if (abs.startsWith(this.root) && isFile(abs)) return { path: clean, immutable: clean.startsWith('assets/') };
      if (extname(clean) !== '') return undefined;
    }
    return { path: 'index.html', immutable: false };
  }
}

function decodeSafe(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
