import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generatedOpenApi } from '../src/api/openApiDocument.js';

/** Writes docs/openapi.json from the route table (`npm run docs:openapi -w @livescope/control-plane`). */
const target = fileURLToPath(new URL('../../../docs/openapi.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(generatedOpenApi(), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
