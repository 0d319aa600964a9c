import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CAEP_FIXTURES = fileURLToPath(new URL('./fixtures/caep/', import.meta.url));
export const caepSamples = (): string[] => readdirSync(CAEP_FIXTURES).filter((f) => f.endsWith('.json')).sort();
export const caepSample = (file: string): Record<string, unknown> => JSON.parse(readFileSync(`${CAEP_FIXTURES}${file}`, 'utf8')) as Record<string, unknown>;
