/**
 * Frames sent to one WebSocket within one turn of the event loop leave in one write: the
 * socket is corked at the first frame and uncorked once the turn's callbacks and promise
 * continuations have run (process.nextTick queued from inside them runs after the microtask
 * queue drains). Under load a read brings many requests whose answers are ready in the same
 * turn, and one writev for all of them costs one system call instead of one per answer; with
 * a single request nothing waits, since the uncork comes before the event loop goes on. `ws`
 * gives no public handle on its socket, so this uses `_socket` (stable through ws 8) and
 * falls back to plain sends without it.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export class SendBatcher {
  private readonly corked = new Set<Socket>();
  private scheduled = false;

  send(ws: WebSocket, text: string): void {
    const sock = (ws as unknown as { _socket?: Socket })._socket;
    if (sock && typeof sock.cork === 'function' && !this.corked.has(sock)) {
      sock.cork();
      this.corked.add(sock);
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flush());
      }
    }
    ws.send(text);
  }

  private flush(): void {
    this.scheduled = false;
    for (const s of this.corked) s.uncork();
    this.corked.clear();
  }
}
