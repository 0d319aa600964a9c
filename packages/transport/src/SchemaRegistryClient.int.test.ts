import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
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

describe('a subject left without its compatibility rule', () => {
  it('(a process stopped between creating the subject and its rule) is repaired on the next registration', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}.`;
    const specs = subjectSpecsFor(prefix).slice(0, 2);
    const first = await new SchemaRegistryClient(url).registerAll(specs);
    // What a stopped process leaves behind: the subject exists, its rule does not.
    for (const spec of specs) {
      const res = await fetch(`${url}/config/${encodeURIComponent(spec.subject)}`, { method: 'DELETE' });
      expect(res.ok, `DELETE config of ${spec.subject}: ${res.status}`).toBe(true);
    }
    const again = await new SchemaRegistryClient(url).registerAll(specs);
    for (const spec of specs) {
      expect(again.get(spec.subject)?.id).toBe(first.get(spec.subject)?.id);
      const cfg = (await (await fetch(`${url}/config/${encodeURIComponent(spec.subject)}`)).json()) as { compatibilityLevel?: string };
      expect(cfg.compatibilityLevel).toBe('BACKWARD');
      await fetch(`${url}/subjects/${encodeURIComponent(spec.subject)}`, { method: 'DELETE' });
    }
  });
});

describe('a registry that accepts connections and never answers', () => {
  it('fails registration and lookups within the request timeout, as transient (retried by the caller), instead of hanging', async () => {
    const held: Socket[] = [];
    const server = createServer((socket) => void held.push(socket)).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const client = new SchemaRegistryClient(`http://127.0.0.1:${port}/apis/ccompat/v7`, { requestTimeoutMs: 300 });
      const specs = subjectSpecsFor(`t${randomUUID().slice(0, 8)}.`).slice(0, 1);
      const registration = await client.registerAll(specs).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(registration).toMatchObject({ name: 'TransportError', code: 'REGISTRY_UNAVAILABLE', classification: 'transient' });
      await expect(client.loadSubjectIds(specs[0]!.subject)).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE' });
      expect(held.length).toBeGreaterThan(0);
    } finally {
      for (const s of held) s.destroy();
      server.close();
    }
  });
});
