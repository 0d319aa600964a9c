import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/**
 * Secrets nested inside a JSON option: an entry of `LIVESCOPE_SSF_OAUTH_CLIENTS` or
 * `LIVESCOPE_SSF_POLL_STREAMS` gives its secret inline (`clientSecret`) or as a file
 * (`clientSecretFile`, a mounted Docker or Kubernetes secret). @livescope/runtime reads a whole
 * variable from `<VARIABLE>_FILE`; a file named by a field inside the JSON is read here, when the
 * configuration is loaded, so a wrong path fails the start and not the first request.
 */

/** The content of a secret file, one trailing newline dropped. Throws with the reason (never the content). */
export function readSecretFile(path: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string {
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    throw new Error(`cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new Error(`${path} is empty`);
  return value;
}

/** An entry whose secret may be inline or in a file. */
interface WithSecretFile {
  readonly clientSecret?: string | undefined;
  readonly clientSecretFile?: string | undefined;
}

export type SecretResolved<T extends WithSecretFile> = Omit<T, 'clientSecretFile'>;

/**
 * A zod transform of an array of entries: each `clientSecretFile` is read into `clientSecret`
 * (both given is an error, as for `<VARIABLE>` and `<VARIABLE>_FILE`). `minLength` applies to the
 * secret however it was given; `required` makes one of the two mandatory. `label` names an entry in
 * messages (`client sse-receiver`).
 */
export function resolveSecretFiles<T extends WithSecretFile>(label: (entry: T) => string, o: { readonly minLength: number; readonly required: boolean }) {
  return (entries: readonly T[], ctx: z.RefinementCtx): Array<SecretResolved<T>> =>
    entries.map((entry, i) => {
      const { clientSecretFile, ...rest } = entry;
      const problem = (message: string, field?: string): SecretResolved<T> => {
        ctx.addIssue({ code: 'custom', path: field ? [i, field] : [i], message: `${label(entry)}: ${message}` });
        return rest;
      };
      if (clientSecretFile === undefined) {
        if (rest.clientSecret === undefined) return o.required ? problem(`needs a clientSecret (or clientSecretFile) of at least ${o.minLength} characters`) : rest;
        return rest.clientSecret.length < o.minLength ? problem(`the clientSecret must be at least ${o.minLength} characters`, 'clientSecret') : rest;
      }
      if (rest.clientSecret !== undefined) return problem('both clientSecret and clientSecretFile are given; give one of them');
      let clientSecret: string;
      try {
        clientSecret = readSecretFile(clientSecretFile);
      } catch (e) {
        return problem((e as Error).message, 'clientSecretFile');
      }
      if (clientSecret.length < o.minLength) return problem(`the secret in ${clientSecretFile} must be at least ${o.minLength} characters`, 'clientSecretFile');
      return { ...rest, clientSecret };
    });
}
