import { Agent, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

export interface ClientAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** From sending the request to the end of the answer. */
  readonly ms: number;
}

/**
 * An HTTP/1.1 client whose connections come from `localAddress` — on Linux every 127.x.y.z is a
 * loopback address, so one test can speak as several clients to a server on 127.0.0.1. Keeps its
 * connections alive, as a flood or a busy client would.
 */
export class ClientAt {
  private readonly agent: Agent;

  constructor(
    readonly localAddress: string,
    maxSockets = 1,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  request(baseUrl: string, method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<ClientAnswer> {
    const url = new URL(path, baseUrl);
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers, agent: this.agent, localAddress: this.localAddress, timeout: timeoutMs }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: Number(process.hrtime.bigint() - started) / 1e6 }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} from ${this.localAddress}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
