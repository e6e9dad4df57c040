import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { did, startProxy, TOKENS, until, type Harness } from '../support/proxy-harness.js';
import { startLineServer } from '../support/line-server.js';
import { socksConnect } from '../support/socks-client.js';

let harness: Harness | undefined;
let closeServer: (() => Promise<void>) | undefined;
afterEach(async () => {
  await harness?.close();
  await closeServer?.();
  harness = closeServer = undefined;
});

/** Sends requests from..to on `socket` and resolves with the answers, in order. */
async function exchange(socket: Socket, from: number, to: number): Promise<string[]> {
  const answers: string[] = [];
  let pending = '';
  const onData = (d: Buffer) => {
    pending += d.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      answers.push(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  };
  socket.on('data', onData);
  socket.resume();
  for (let n = from; n <= to; n++) socket.write(`${n}\n`);
  await until(() => answers.length >= to - from + 1, 10_000, 'answers');
  socket.off('data', onData);
  return answers;
}

/** Every line `socket` receives until it ends. */
function readLinesUntilEnd(socket: Socket): Promise<string[]> {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
  socket.resume();
  return new Promise((resolve) => socket.once('end', () => resolve(text.split('\n').filter(Boolean))));
}

describe('upstream continuity', () => {
  it('a request/response protocol used from A, then from B, is answered in order', async () => {
    harness = await startProxy();
    const lines = await startLineServer();
    closeServer = lines.close;
    const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', lines.port);
    expect(await exchange(a.socket, 1, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `${i + 1}:${(i + 1) ** 2}`));

    const [conn] = (await harness.api('phone', 'GET', '/v1/connections')).json.connections;
    // A keeps talking while the migration is requested: those bytes were sent before it let go.
    const aTail = readLinesUntilEnd(a.socket);
    for (let n = 51; n <= 60; n++) a.socket.write(`${n}\n`);
    const m = await harness.api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' });
    expect(m.status).toBe(202);
    const b = await socksConnect(harness.port, did('pc'), TOKENS.pc, '127.0.0.1', lines.port);
    // B starts sending at once; the proxy must hold it until A's bytes reached the server.
    const answersB = await exchange(b.socket, 61, 120);
    const answersA = await aTail;
    // Downstream, the answers to 51..60 went to A or, where A had not acknowledged them, to B.
    expect([...answersA, ...answersB].slice(0, 70)).toEqual(Array.from({ length: 70 }, (_, i) => `${i + 51}:${(i + 51) ** 2}`));
    expect(lines.received).toEqual(Array.from({ length: 120 }, (_, i) => String(i + 1)));

    // Then a FIN from B is an ordinary half-close: the server sees it and still answers.
    const tail: Buffer[] = [];
    b.socket.on('data', (d: Buffer) => tail.push(d));
    b.socket.end();
    await until(() => lines.halfClosed(), 5_000, 'server to see the FIN');
    await until(() => Buffer.concat(tail).toString().includes('bye'), 5_000, 'the answer after FIN');
    a.socket.destroy();
    b.socket.destroy();
  });

  it('a new device that writes and half-closes at once still reaches the server, FIN last', async () => {
    harness = await startProxy({ letGoTimeoutMs: 1_000 });
    const lines = await startLineServer();
    closeServer = lines.close;
    const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', lines.port);
    expect(await exchange(a.socket, 1, 3)).toHaveLength(3);
    // A does not answer the proxy's FIN: it lets go only at the let-go timeout, so B's bytes and
    // FIN arrive while the gate still holds them.
    a.socket.allowHalfOpen = true;
    const [conn] = (await harness.api('phone', 'GET', '/v1/connections')).json.connections;
    const m = await harness.api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' });
    const b = await socksConnect(harness.port, did('pc'), TOKENS.pc, `${m.json.ticket}.ticket.tsmp.invalid`, 1);
    const tail: Buffer[] = [];
    b.socket.on('data', (d: Buffer) => tail.push(d));
    b.socket.resume();
    b.socket.end('7\n');
    await until(() => lines.halfClosed(), 10_000, 'the FIN');
    expect(lines.received).toEqual(['1', '2', '3', '7']);
    await until(() => Buffer.concat(tail).toString().endsWith('7:49\nbye\n'), 5_000, 'the answers');
    a.socket.destroy();
  });
});
