import type { Logger } from '../../common/logger.js';
import { MtcpServer } from '../server/mtcp-server.js';
import type { PoolConfig } from '../server/pool-config.js';
import type { MtcpServerOptions } from '../server/server-options.js';
import type { MtcpSession } from '../server/session-types.js';
import { MAX_REQUEST_LINE, parseStreamRequest, streamBytes, type StreamRequest } from './stream-protocol.js';

/** The snapshot of the sample service (issue 5): `{seed, length, offset}`, or null between requests. */
export interface StreamSnapshot {
  seed: string;
  length: number;
  offset: number;
}

export interface StreamServiceOptions {
  /** Bytes per second; unlimited when absent. */
  rate?: number;
  /**
   * A rate that changes with the time this member has served the connection (ms), for the
   * degrading-server scenario; overrides `rate`.
   */
  rateProfile?: (servedMs: number) => number;
  /** Bytes per write (and per snapshot). @default 16384 */
  chunkBytes?: number;
}

const TICK_MS = 10;

/**
 * The connection handler of the sample stream server. While it streams one request it pauses its
 * input, so the bytes it has consumed end exactly after that request's line: the snapshot
 * `{seed, length, offset}` is then consistent with the input and output so far (M-TCP contract).
 */
export function streamHandler(opts: StreamServiceOptions = {}): (session: MtcpSession) => void {
  const chunkBytes = opts.chunkBytes ?? 16384;
  return (session) => {
    const attachedAt = Date.now();
    let line = '';
    let stopped = false;
    const rateNow = (): number | undefined => (opts.rateProfile ? opts.rateProfile(Date.now() - attachedAt) : opts.rate);
    session.on('close', () => (stopped = true));

    const stream = (req: StreamSnapshot): void => {
      session.pause();
      let budget = 0;
      let last = Date.now();
      const step = (): void => {
        if (stopped) return;
        while (req.offset < req.length) {
          const rate = rateNow();
          let n = Math.min(chunkBytes, req.length - req.offset);
          if (rate !== undefined) {
            const now = Date.now();
            // At most 50 ms worth of bytes at once, so a stalled timer does not turn into a burst.
            budget = Math.min(budget + ((now - last) * rate) / 1000, Math.max(rate / 20, Math.min(chunkBytes, rate)));
            last = now;
            n = Math.min(n, Math.floor(budget));
            if (n <= 0) return void setTimeout(step, TICK_MS);
            budget -= n;
          }
          const ok = session.write(streamBytes(req.seed, req.offset, n));
          req.offset += n;
          session.exportSnapshot(req);
          if (!ok) return void session.once('drain', step);
          if (rate === undefined) return void setImmediate(step); // let ACKs and other sessions in
        }
        session.exportSnapshot(req);
        session.resume();
      };
      step();
    };

    session.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const nl = text.indexOf('\n');
      if (nl < 0) {
        line += text;
        if (line.length > MAX_REQUEST_LINE) refuse();
        return;
      }
      const full = line + text.slice(0, nl);
      line = '';
      if (nl + 1 < chunk.length) session.unshift(chunk.subarray(nl + 1));
      const req: StreamRequest | undefined = parseStreamRequest(full);
      if (!req) return refuse();
      stream({ seed: req.seed, length: req.length, offset: 0 });
    });
    // 'end' comes only once the handler is unpaused, i.e. after the last request was streamed.
    session.on('end', () => session.end());

    const refuse = (): void => {
      session.write('ERR bad request\n');
      session.end();
    };

    const imported = session.importedState as StreamSnapshot | null | undefined;
    if (imported && imported.offset < imported.length) stream({ ...imported });
  };
}

/** A pool member serving the stream protocol: `tsmp example stream-server`. */
export function createStreamServer(args: { pool: PoolConfig; id: string; listen?: string; logger?: Logger } & StreamServiceOptions & Partial<MtcpServerOptions>): MtcpServer {
  const { rate, rateProfile, chunkBytes, ...server } = args;
  return new MtcpServer({ ...server, handler: streamHandler({ rate, rateProfile, chunkBytes }) });
}
