import { connect, type Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs `socketFactory` whose connections a test can stall: while stalled, nothing the brokers
 * send is read, so requests reach the broker and take effect but their answers wait — a produce
 * that is durable yet unconfirmed, as when a network or a broker is slow. `resume()` lets every
 * held answer through. Plain TCP only (the shared test broker's listener).
 */
export class StallableBrokers {
  private readonly sockets = new Set<Socket>();
  private stalled = false;

  readonly socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.stalled) socket.pause();
    return socket;
  };

  stall(): void {
    this.stalled = true;
    for (const s of this.sockets) s.pause();
  }

  resume(): void {
    this.stalled = false;
    for (const s of this.sockets) s.resume();
  }
}
