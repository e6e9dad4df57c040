import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TimeoutError } from '../../common/errors.js';
import { ProxyBenchError } from './errors.js';
import type { Target, TsmpTarget } from './targets.js';

export interface Dialed {
  socket: Socket;
  /** performance.now() when TCP connected (before any handshake). */
  connectedAt: number;
}

/** The SOCKS5 client's states (RFC 1928 section 3 and 6, RFC 1929 section 2). */
const STATES = { method: 0, auth: 1, reply: 2, done: 3 } as const;
type State = (typeof STATES)[keyof typeof STATES];

/**
 * Opens a connection to `target`. For tsmp, it also runs the SOCKS5 handshake with
 * username/password, one message per round trip as an ordinary client (curl) does, so the
 * connection-rate figure includes the handshake's real cost; or, with `pipelined`, all three
 * messages in one write (one round trip; RFC 1928 does not forbid it and the proxy's decoder reads
 * them in order). Resolves when the tunnel is open.
 */
export function dial(target: Target, timeoutMs: number): Promise<Dialed> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: target.port, host: '127.0.0.1', noDelay: true });
    let connectedAt = 0;
    let state: State = STATES.method;
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new TimeoutError(`dial ${target.kind}`, timeoutMs)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const ok = () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.off('data', onData);
      socket.off('close', onClose);
      // Consumers watch 'close'; an error after the handshake must not crash the generator.
      socket.on('error', () => {});
      socket.pause();
      if (buf.length > 0) socket.unshift(buf);
      resolve({ socket, connectedAt });
    };
    const onClose = () => fail(new ProxyBenchError(`${target.kind} closed during the handshake`));
    socket.once('error', fail);
    socket.once('connect', () => {
      connectedAt = performance.now();
      if (target.kind !== 'tsmp') return ok();
      socket.once('close', onClose);
      socket.on('data', onData);
      const greeting = Buffer.from([5, 1, 2]); // VER, NMETHODS, USERNAME/PASSWORD
      socket.write(target.pipelined ? Buffer.concat([greeting, authMessage(target), connectMessage(target)]) : greeting);
    });
    const onData = (d: Buffer) => {
      if (target.kind !== 'tsmp') return;
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      switch (state) {
        case STATES.method: {
          if (buf.length < 2) return;
          if (buf[1] !== 2) return fail(new ProxyBenchError(`proxy chose SOCKS method ${buf[1]}`));
          buf = buf.subarray(2);
          if (!target.pipelined) socket.write(authMessage(target));
          state = STATES.auth;
          return onData(Buffer.alloc(0)); // a pipelined reply may hold the next answer too
        }
        case STATES.auth: {
          if (buf.length < 2) return;
          if (buf[1] !== 0) return fail(new ProxyBenchError('proxy refused the bench credentials'));
          buf = buf.subarray(2);
          if (!target.pipelined) socket.write(connectMessage(target));
          state = STATES.reply;
          return onData(Buffer.alloc(0));
        }
        case STATES.reply: {
          if (buf.length < 5) return;
          const atyp = buf[3];
          const len = atyp === 1 ? 10 : atyp === 4 ? 22 : 7 + buf[4]!;
          if (buf.length < len) return;
          if (buf[1] !== 0) return fail(new ProxyBenchError(`proxy replied ${buf[1]} to CONNECT`));
          buf = buf.subarray(len);
          state = STATES.done;
          return ok();
        }
        case STATES.done:
          return;
      }
    };
  });
}

/** RFC 1929 section 2: VER 1, ULEN, UNAME, PLEN, PASSWD. */
function authMessage(target: TsmpTarget): Buffer {
  const u = Buffer.from(target.user);
  const p = Buffer.from(target.pass);
  return Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]);
}

/** RFC 1928 section 4: CONNECT to a domain name. */
function connectMessage(target: TsmpTarget): Buffer {
  const h = Buffer.from(target.host);
  const port = target.destPort;
  return Buffer.concat([Buffer.from([5, 1, 0, 3, h.length]), h, Buffer.from([port >> 8, port & 255])]);
}

/** Runs `task` over `items` with at most `limit` at once; resolves with results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
