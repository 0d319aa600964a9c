import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadWorkerConfig } from './config.js';
import { startMetricsServer } from './metricsServer.js';

const base = { LIVESCOPE_SIGNING_KEY_ID: 'k1', LIVESCOPE_SIGNING_KEY: 'x'.repeat(43) };

describe('metrics and health listen address (issue 19: probes and scrapers in a cluster could not reach 127.0.0.1)', () => {
  it('defaults to 127.0.0.1 and takes LIVESCOPE_METRICS_HOST', () => {
    expect(loadWorkerConfig(base).metricsHost).toBe('127.0.0.1');
    expect(loadWorkerConfig({ ...base, LIVESCOPE_METRICS_HOST: '0.0.0.0' }).metricsHost).toBe('0.0.0.0');
    expect(loadWorkerConfig({ ...base, LIVESCOPE_METRICS_HOST: '::' }).metricsHost).toBe('::');
  });

  it('refuses a value that is no address, naming the variable', () => {
    expect(() => loadWorkerConfig({ ...base, LIVESCOPE_METRICS_HOST: '0.0.0.0; rm -rf /' })).toThrow(ConfigError);
    expect(() => loadWorkerConfig({ ...base, LIVESCOPE_METRICS_HOST: '' })).toThrow(/LIVESCOPE_METRICS_HOST/);
  });

  it('binds the address it is given and answers the probes there', async () => {
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      const server = await startMetricsServer(0, host, new Registry(), () => Promise.resolve({ ok: true, checks: { postgres: 'ok' } }));
      try {
        const { address, port } = server.address() as AddressInfo;
        expect(address).toBe(host);
        expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('ok\n');
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toEqual({ ok: true, checks: { postgres: 'ok' } });
      } finally {
        await new Promise((r) => server.close(r));
      }
    }
  });
});
