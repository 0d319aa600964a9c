import { Worker } from 'node:worker_threads';
import type { IHeaders } from 'kafkajs';
import { sign } from 'node:crypto';
import type { CommandSigner, SignedMessageParts, SigningKey } from './CommandSigner.js';
import { TransportError } from './TransportError.js';

/**
 * Signs many command values on worker threads. An Ed25519 signature costs ~25 µs of CPU, and a
 * worker signs every change, snapshot and revocation it produces: on the main thread that was the
 * largest single cost of a batch. Ed25519 is deterministic, so a value gets the same signature on
 * any thread (replays stay byte-identical). Small sets are signed inline: a round trip to a thread
 * costs more than a few signatures.
 *
 * The worker code is evaluated from a string, so it runs the same from sources (tests) and builds.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
const key = createPrivateKey({ key: Buffer.from(workerData.pkcs8), format: 'der', type: 'pkcs8' });
parentPort.on('message', ({ id, values }) => {
  const sigs = values.map((v) => sign(null, Buffer.from(v.buffer, v.byteOffset, v.byteLength), key));
  parentPort.postMessage({ id, sigs });
});
`;

interface Pending {
  resolve: (sigs: Uint8Array[]) => void;
  reject: (e: Error) => void;
}

export class SignerPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: Error | undefined;
  readonly key: SigningKey;

  /**
   * @param signer the key, its epoch and the header layout.
   * @param threads signing threads; 0 signs everything inline.
   * @param inlineBelow sets smaller than this are signed inline. Default 32.
   */
  constructor(
    private readonly signer: CommandSigner,
    threads: number,
    private readonly inlineBelow = 32,
  ) {
    this.key = signer.key;
    const key = this.key;
    if (threads <= 0) return;
    const pkcs8 = key.privateKey.export({ format: 'der', type: 'pkcs8' });
    for (let i = 0; i < threads; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { pkcs8 } });
      w.unref();
      w.on('message', ({ id, sigs }: { id: number; sigs: Uint8Array[] }) => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.resolve(sigs);
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => code !== 0 && this.fail(new Error(`signing thread exited with code ${code}`)));
      this.workers.push(w);
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** The signature headers of each message, in order (see `commandSigningPayload` for what is signed). */
  async headersFor(messages: readonly SignedMessageParts[]): Promise<IHeaders[]> {
    const sigs = await this.signAll(messages.map((m) => this.signer.payload(m.topic, m.key, m.value)));
    return sigs.map((sig) => this.signer.headersOf(sig));
  }

  /** Ed25519 signatures of the given payloads (already built with `CommandSigner.payload`). */
  async signAll(values: readonly Buffer[]): Promise<Buffer[]> {
    if (this.workers.length === 0 || this.failed || values.length < this.inlineBelow) return values.map((v) => sign(null, v, this.key.privateKey));
    // Everything goes to the threads: the calling thread meanwhile works on other partitions.
    const size = Math.ceil(values.length / this.workers.length);
    const jobs: Promise<Uint8Array[]>[] = [];
    for (let t = 0; t < this.workers.length; t++) {
      const part = values.slice(t * size, (t + 1) * size);
      if (part.length === 0) break;
      const id = this.nextId++;
      jobs.push(new Promise((resolve, reject) => this.pending.set(id, { resolve, reject })));
      this.workers[t]!.postMessage({ id, values: part });
    }
    return (await Promise.all(jobs)).flat().map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private fail(e: Error): void {
    // Signing continues inline; requests in flight fail as transient (the batch is retried).
    this.failed = e;
    const err = new TransportError('SIGNING_THREAD', 'transient', `a signing thread failed: ${e.message}`, { cause: e });
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
