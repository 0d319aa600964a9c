import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LivescopeEventInput } from '@livescope/contracts';

/** Reads every `.cedar` file of a directory (sorted by name) as a policy file. */
export function readPolicyDir(dir: string): { id: string; text: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cedar'))
    .sort()
    .map((f) => ({ id: f.replace(/\.cedar$/, ''), text: readFileSync(join(dir, f), 'utf8') }));
}

/** A `policies.published` event; the version is the publication time in seconds, so it only grows. */
export function policiesEvent(files: readonly { id: string; text: string }[], publishedBy: string, nowMs = Date.now()): LivescopeEventInput {
  return { specversion: '1.0', id: `policies/${nowMs}`, type: 'policies.published', source: 'simulator', time: new Date(nowMs).toISOString(), data: { version: Math.floor(nowMs / 1000), policies: [...files], publishedBy } };
}
