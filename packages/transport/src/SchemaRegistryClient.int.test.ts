import { randomUUID } from 'node:crypto';
import { subjectSpecsFor } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { SchemaRegistryClient } from './SchemaRegistryClient.js';

const url = process.env.LIVESCOPE_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';

describe('SchemaRegistryClient against Apicurio Registry', () => {
  it('processes starting together register the same new subjects without a conflict (npm start: worker and control plane)', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}.`;
    const specs = subjectSpecsFor(prefix);
    const clients = [new SchemaRegistryClient(url), new SchemaRegistryClient(url), new SchemaRegistryClient(url)];
    const results = await Promise.all(clients.map((c) => c.registerAll(specs)));
    for (const spec of specs) {
      const ids = new Set(results.map((r) => r.get(spec.subject)?.id));
      expect(ids.size, spec.subject).toBe(1);
      expect([...ids][0]).toBeTypeOf('number');
    }
    for (const spec of specs) await fetch(`${url}/subjects/${encodeURIComponent(spec.subject)}`, { method: 'DELETE' });
  });
});
