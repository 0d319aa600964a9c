import type { ConsoleAssets } from './ConsoleAssets.js';
import type { ConsoleApi } from './routes.js';

/** How to answer a request under /console/, without HTTP types: the routes turn it into a reply. */
export type ConsoleAnswer =
  | { readonly kind: 'file'; readonly root: string; readonly path: string; readonly immutable: boolean }
  | { readonly kind: 'not-found'; readonly path: string }
  | { readonly kind: 'unavailable'; readonly problem: string };

/** The web console's build: which file answers a path, or why there is none. */
export class ConsoleService implements ConsoleApi {
  /** `connect`: origins the console may call besides its own (the OpenID provider's). */
  constructor(
    private readonly assets: ConsoleAssets,
    private readonly connect: readonly string[] = [],
  ) {}

  connectSources(): readonly string[] {
    return this.connect;
  }

  consoleAsset(path: string): ConsoleAnswer {
    const { root } = this.assets;
    if (!root) return { kind: 'unavailable', problem: this.assets.problem ?? 'not configured' };
    const file = this.assets.fileFor(path);
    if (!file) return { kind: 'not-found', path };
    return { kind: 'file', root, path: file.path, immutable: file.immutable };
  }
}
