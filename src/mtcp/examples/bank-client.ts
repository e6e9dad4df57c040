import { MtcpClientConnection } from '../client/client-connection.js';
import { TimeoutError } from '../../common/errors.js';
import type { Transfer } from './bank-store.js';

/**
 * Drives a sequence of transfers over one migratory connection, with up to `window` requests in
 * flight, and checks that replies come back once each, in order. `onProgress` lets a test or
 * demo migrate or kill front-ends mid-sequence.
 */
export async function runTransfers(
  conn: MtcpClientConnection,
  transfers: Transfer[],
  opts: { window?: number; timeoutMs?: number; onProgress?: (done: number) => void } = {},
): Promise<string[]> {
  const window = opts.window ?? 8;
  const replies: string[] = [];
  let sent = 0;
  let buf = '';
  return new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => finish(new TimeoutError(`bank sequence (${replies.length}/${transfers.length} replies)`, opts.timeoutMs ?? 30_000)), opts.timeoutMs ?? 30_000);
    const send = (): void => {
      while (sent < transfers.length && sent - replies.length < window) {
        const t = transfers[sent++]!;
        conn.write(`TRANSFER ${t.clientId} ${t.seq} ${t.from} ${t.to} ${t.amount}\n`);
      }
    };
    const onData = (c: Buffer): void => {
      buf += c.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const expected = transfers[replies.length];
        const seq = Number(line.split(' ')[1]);
        if (!expected || seq !== expected.seq) return finish(new Error(`reply out of order or repeated: "${line}" after ${replies.length} replies`));
        replies.push(line);
        opts.onProgress?.(replies.length);
      }
      if (replies.length === transfers.length) return finish();
      send();
    };
    const onError = (e: Error): void => finish(e);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      conn.off('data', onData);
      conn.off('error', onError);
      if (err) reject(err);
      else resolve(replies);
    };
    conn.on('data', onData);
    conn.on('error', onError);
    send();
  });
}
