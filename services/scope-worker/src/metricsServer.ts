import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** /metrics (Prometheus), /healthz (process up) and /readyz (dependencies answer), on `host`:`port`. */
export function startMetricsServer(port: number, host: string, registry: Registry, ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        res.setHeader('content-type', registry.contentType);
        res.end(await registry.metrics());
      } else if (req.url === '/healthz') {
        res.end('ok\n');
      } else if (req.url === '/readyz') {
        const r = await ready();
        res.statusCode = r.ok ? 200 : 503;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(r));
      } else {
        res.statusCode = 404;
        res.end();
      }
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
