import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';

export interface ReceivedSet {
  readonly payload: JWTPayload & { events: Record<string, Record<string, unknown>>; sub_id?: Record<string, unknown>; txn?: string };
  readonly header: ProtectedHeaderParameters;
  readonly raw: string;
}

/**
 * A push receiver (RFC 8935) written for the tests, independent of livescope's own verifier: it checks
 * the bearer header, verifies each SET with jose against the transmitter's published JWKS (signature,
 * `typ: secevent+jwt`, `iss`, `aud`), rejects a repeated `jti`, and keeps what it accepted.
 */
export class TestReceiver {
  readonly accepted: ReceivedSet[] = [];
  readonly rejected: string[] = [];
  private readonly jtis = new Set<string>();
  private server: Server | undefined;
  url = '';

  constructor(private readonly expect: { issuer: string; audience: string; authorization: string; jwksUri: string }) {}

  async start(): Promise<string> {
    const jwks = createRemoteJWKSet(new URL(this.expect.jwksUri));
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const answer = (status: number, err?: string, description?: string): void => {
          if (err) this.rejected.push(`${err}: ${description}`);
          res.writeHead(status, { 'content-type': 'application/json' }).end(err ? JSON.stringify({ err, description }) : undefined);
        };
        if (req.headers.authorization !== this.expect.authorization) return answer(401, 'authentication_failed', 'bad authorization');
        if (req.headers['content-type'] !== 'application/secevent+jwt') return answer(400, 'invalid_request', `content-type ${req.headers['content-type']}`);
        jwtVerify(body, jwks, { issuer: this.expect.issuer, audience: this.expect.audience, typ: 'secevent+jwt' }).then(
          ({ payload, protectedHeader }) => {
            if (!payload.jti || this.jtis.has(payload.jti)) return answer(400, 'invalid_request', `jti ${payload.jti} repeated`);
            this.jtis.add(payload.jti);
            this.accepted.push({ payload: payload as ReceivedSet['payload'], header: protectedHeader, raw: body });
            return answer(202);
          },
          (e: Error) => answer(400, 'invalid_key', e.message),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/caep`;
    return this.url;
  }

  of(eventType: string): ReceivedSet[] {
    return this.accepted.filter((s) => eventType in s.payload.events);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
