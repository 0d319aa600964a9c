import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedOpenApi } from './openApiDocument.js';

describe('docs/openapi.json', () => {
  it('is the document the route table generates (regenerate: npm run docs:openapi -w @livescope/control-plane)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../../../docs/openapi.json', import.meta.url), 'utf8')) as unknown;
    expect(committed).toEqual(JSON.parse(JSON.stringify(generatedOpenApi())));
  });
});
