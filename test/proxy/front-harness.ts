/**
 * Shared by the front tests: a front on 127.0.0.1 port 0 with a stub authenticator (a real
 * object), a queue of the `PendingConnect`s it hands over, and a byte-level test client.
 */
import { once } from 'node:events';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { DeviceAuthenticator, DeviceIdentity } from '../../src/proxy/auth/device-authenticator.js';
import { parseDid } from '../../src/proxy/auth/device-authenticator.js';
import { createFrontServer, type FrontHandler } from '../../src/proxy/front/front-server.js';
import type { FrontOptions } from '../../src/proxy/front/front-options.js';
import type { PendingConnect } from '../../src/proxy/front/types.js';

export const BOB_PHONE = { did: 'phone.bob@example.org', token: 'phone-token' };
export const BOB_PC = { did: 'pc.bob@example.org', token: 'pc-token' };

/** Accepts the DIDs it was given; can be slowed down or made to fail like a remote name server. */
export class StubAuthenticator implements DeviceAuthenticator {
  calls = 0;
  delayMs = 0;
  broken = false;

  constructor(private readonly tokens: Record<string, string> = { [BOB_PHONE.did]: BOB_PHONE.token, [BOB_PC.did]: BOB_PC.token }) {}

  async authenticate(did: string, token: string): Promise<DeviceIdentity | null> {
    this.calls++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.broken) throw new Error('name server unreachable');
    const parts = parseDid(did);
    if (!parts || this.tokens[did] !== token) return null;
    return { ...parts, did };
  }

  async resolveDevice(uid: string, nameOrDid: string): Promise<DeviceIdentity | null> {
    const did = nameOrDid.includes('.') ? nameOrDid : `${nameOrDid}.${uid}`;
    const parts = parseDid(did);
    return parts && parts.uid === uid && did in this.tokens ? { ...parts, did } : null;
  }
}

export interface TestFront {
  port: number;
  handler: FrontHandler;
  authenticator: StubAuthenticator;
  /** The next PendingConnect handed to onConnect. */
  nextPending(timeoutMs?: number): Promise<PendingConnect>;
  close(): Promise<void>;
}

export async function startFront(
  options: FrontOptions = {},
  onConnect?: (pending: PendingConnect) => void | Promise<void>,
): Promise<TestFront> {
  const authenticator = new StubAuthenticator();
  const queue: PendingConnect[] = [];
  const waiters: ((p: PendingConnect) => void)[] = [];
  const handed: PendingConnect[] = [];
  const { server, handler } = createFrontServer(
    {
      authenticator,
      onConnect:
        onConnect ??
        ((pending) => {
          handed.push(pending);
          const waiter = waiters.shift();
          if (waiter) waiter(pending);
          else queue.push(pending);
        }),
    },
    { closeLingerMs: 200, ...options },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    handler,
    authenticator,
    nextPending(timeoutMs = 2000) {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no PendingConnect in time')), timeoutMs);
        waiters.push((p) => {
          clearTimeout(timer);
          resolve(p);
        });
      });
    },
    async close() {
      handler.closeAll();
      for (const p of handed) p.socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A client socket that records everything it receives and when the server closed. */
export class TestClient {
  readonly socket: Socket;
  private received = Buffer.alloc(0);
  private readonly closed: Promise<void>;
  ended = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    socket.on('end', () => {
      this.ended = true;
    });
    socket.on('error', () => {});
    this.closed = once(socket, 'close').then(() => undefined);
  }

  static async open(port: number): Promise<TestClient> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await once(socket, 'connect');
    return new TestClient(socket);
  }

  send(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Waits until at least `n` bytes have arrived and takes exactly `n`. */
  async read(n: number, timeoutMs = 2000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`read(${n}): only ${this.received.length} bytes after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const out = this.received.subarray(0, n);
    this.received = this.received.subarray(n);
    return out;
  }

  /** Waits for the server to close (FIN or reset) and returns what arrived unread, and when. */
  async untilClosed(timeoutMs = 2000): Promise<{ rest: Buffer; afterMs: number }> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const finished = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.ended || this.socket.destroyed) resolve();
        else timer = setTimeout(check, 5);
      };
      check();
    });
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`server did not close within ${timeoutMs} ms`)), timeoutMs).unref();
    });
    try {
      await Promise.race([finished, timeout]);
    } finally {
      clearTimeout(timer);
    }
    const rest = this.received;
    this.received = Buffer.alloc(0);
    return { rest, afterMs: Date.now() - started };
  }

  /** Bytes received and not yet read. */
  get pending(): Buffer {
    return this.received;
  }

  async destroy(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
