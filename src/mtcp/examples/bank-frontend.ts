import type pg from 'pg';
import type { MtcpSession } from '../server/session-types.js';
import { applyTransfer } from './bank-store.js';

/**
 * The bank front-end's line protocol (one request per line, one reply line per request, in order):
 *
 *   TRANSFER <client-id> <seq> <from> <to> <amount>\n  →  OK <seq>\n | REFUSED <seq> <reason>\n
 *   anything else                                      →  ERR bad request\n, then the end
 *
 * The handler takes one line at a time and pauses its input while the transaction runs, so the
 * input consumed ends exactly after the line it has answered. Its snapshot `{answered}` is then
 * consistent; the database holds the rest of the state.
 */
export const BANK_LINE_LIMIT = 512;

export function bankHandler(pool: pg.Pool, schema: string): (session: MtcpSession) => void {
  return (session) => {
    let line = '';
    let answered = (session.importedState as { answered?: number } | undefined)?.answered ?? 0;
    const bad = (): void => {
      session.write('ERR bad request\n');
      session.end();
    };
    session.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const nl = text.indexOf('\n');
      if (nl < 0) {
        line += text;
        if (line.length > BANK_LINE_LIMIT) bad();
        return;
      }
      const full = line + text.slice(0, nl);
      line = '';
      if (nl + 1 < chunk.length) session.unshift(chunk.subarray(nl + 1));
      const m = /^TRANSFER (\S{1,64}) (\d{1,15}) (\S{1,64}) (\S{1,64}) (\d{1,15})\r?$/.exec(full);
      if (!m) return bad();
      session.pause();
      applyTransfer(pool, schema, { clientId: m[1]!, seq: Number(m[2]), from: m[3]!, to: m[4]!, amount: Number(m[5]) }).then(
        (reply) => {
          if (session.destroyed) return;
          session.write(`${reply}\n`);
          answered++;
          session.exportSnapshot({ answered });
          session.resume();
        },
        () => session.destroy(), // database trouble: drop the connection, the client migrates and retries
      );
    });
    session.on('end', () => session.end());
  };
}
