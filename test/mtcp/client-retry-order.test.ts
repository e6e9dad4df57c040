import { afterEach, describe, expect, it } from 'vitest';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import type { MtcpSession } from '../../src/mtcp/server/session-types.js';
import { expectedStreamHash } from '../../src/mtcp/examples/stream-protocol.js';
import { makePool, readHashed, request, startPool, stopAll } from './support/pool.js';

/**
 * The client's retry path must keep both directions in order (issue 5: "one unbroken byte stream,
 * exactly once, in order"). Found with the bank demo: with a pause between resume attempts, the old
 * member had time to produce output after the client detached; the new member sent it right behind
 * RESUMED, the client handed it to the application before replaying its input, and the
 * application's answer (a new write) went out ahead of the replay.
 */

let servers: MtcpServer[] = [];
afterEach(async () => {
  await stopAll(servers);
  servers = [];
});

/**
 * A line service: "<n>\n" → "R<n>\n". On the member where `gate` is given, the answer to the
 * first line waits for the gate (so the test decides when that output is produced).
 */
function lineHandler(gate?: { opened: Promise<void>; arrived: () => void }): (s: MtcpSession) => void {
  return (session) => {
    let answered = (session.importedState as { answered?: number } | undefined)?.answered ?? 0;
    let line = '';
    session.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const nl = text.indexOf('\n');
      if (nl < 0) {
        line += text;
        return;
      }
      const full = line + text.slice(0, nl);
      line = '';
      if (nl + 1 < chunk.length) session.unshift(chunk.subarray(nl + 1));
      session.pause();
      const reply = (): void => {
        if (session.destroyed) return;
        session.write(`R${full}\n`);
        answered++;
        session.exportSnapshot({ answered });
        session.resume();
      };
      if (gate && answered === 0) {
        gate.arrived();
        void gate.opened.then(reply);
      } else setImmediate(reply);
    });
    session.on('end', () => session.end());
  };
}

describe('M-TCP client retry path keeps the streams in order', () => {
  it('input written during a migration goes out after the replay, even when output arrives with RESUMED', async () => {
    const pool = await makePool(2);
    let open!: () => void;
    let arrived!: () => void;
    const lineArrived = new Promise<void>((r) => (arrived = r));
    const gate = { opened: new Promise<void>((r) => (open = r)), arrived };
    for (const [i, m] of pool.members.entries()) {
      const s = new MtcpServer({ pool, id: m.id, handler: lineHandler(i === 0 ? gate : undefined) });
      await s.listen();
      servers.push(s);
    }
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address }).connect();
    let got = '';
    const done = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out with "${got}"`)), 5000);
      conn.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        // The application answers the first reply with a new line, synchronously.
        if (got === 'R1\n') conn.write('3\n');
        if (got.split('\n').length > 3) (clearTimeout(t), resolve());
      });
    });
    conn.write('1\n');
    await lineArrived;
    // s1 answers only once the client has detached: that output reaches the client through s2,
    // right behind RESUMED. Line 2 is written while the migration is under way (held, replayed).
    conn.once('migration', () => open());
    const migrated = conn.migrate(pool.members[1]!.id);
    conn.write('2\n');
    const record = await migrated;
    await done;
    expect(record.state).toBe('done');
    expect(record.bytesReplayed).toBe(2);
    expect(got).toBe('R1\nR2\nR3\n');
    conn.destroy();
  });

  it('a rollback to the old member does not deliver the output the client already has twice', async () => {
    const pool = await makePool(2);
    const started = await startPool(pool);
    servers = [...started.values()];
    // No ACK goes out during the test: the member keeps all output as unacknowledged.
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address, ackBytes: 1 << 30, ackDelayMs: 60_000 }).connect();
    request(conn, 'first', 200_000);
    const first = await readHashed(conn, 200_000, 10_000);
    expect(first.hash).toBe(expectedStreamHash('first', 200_000));
    // The target is down: the client comes back to the member that still holds the connection.
    await started.get('s2')!.close();
    const record = await conn.migrate('s2');
    expect(record.attempts.map((a) => [a.member, a.ok])).toEqual([
      ['s2', false],
      ['s1', true],
    ]);
    expect(record.transfer?.source).toBe('local');
    request(conn, 'second', 20_000);
    const second = await readHashed(conn, 20_000, 10_000);
    expect(second.hash).toBe(expectedStreamHash('second', 20_000));
    expect(conn.bytesReceived).toBe(220_000);
    conn.destroy();
  });
});
