import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import { connectTunnel, type ProxyCredentials } from './http-connect-tunnel.js';
import { controlRequest } from './control-client.js';
import { emit, fail, nowMs, onCommands } from './role-io.js';

/**
 * One of Bob's devices, inside its namespace, driven by JSON commands on stdin:
 * - `download`: GET /file from Alice, through the proxy (or directly, for the no-tsmp
 *   alternative), writing every byte received to `out`; optionally requests the migration to
 *   `migrate.to` at `migrate.afterMs` (the paper: the old device requests it at the 5th second)
 *   or aborts at `abortAfterMs`.
 * - `await-push`: holds a channel open to the push stand-in (as an agent holds its control
 *   channel), waits for a Migration-To-Request and attaches to the migrated stream by
 *   opening a CONNECT tunnel to the same destination (docs/CONTRACTS.md, "How the target device
 *   picks the stream up").
 */

interface Download {
  tag: string;
  via: ProxyCredentials | null;
  dest: { host: string; port: number };
  rangeFrom?: number;
  out: string;
  migrate?: { afterMs: number; control: { host: string; port: number }; to: string };
  abortAfterMs?: number;
}

/** Receives a stream to `out`; reports the first byte and the end with the bytes' SHA-256. */
function sink(tag: string, socket: net.Socket, first: Buffer, out: string): void {
  const file = createWriteStream(out);
  const hash = createHash('sha256');
  let bytes = 0;
  const take = (c: Buffer): void => {
    if (bytes === 0 && c.length > 0) emit('first-byte', { tag });
    bytes += c.length;
    hash.update(c);
    // Files on tmpfs absorb 1 MB at once; the bound is the transfer size itself.
    file.write(c);
  };
  if (first.length > 0) take(first);
  socket.on('data', take);
  socket.once('close', () => {
    file.end(() => emit('end', { tag, bytes, sha256: hash.digest('hex') }));
  });
  socket.on('error', () => {});
  socket.resume();
}

async function download(cmd: Download): Promise<void> {
  const dest = `${cmd.dest.host}:${cmd.dest.port}`;
  emit('start', { tag: cmd.tag });
  let socket: net.Socket;
  let rest: Buffer = Buffer.alloc(0);
  if (cmd.via) {
    ({ socket, rest } = await connectTunnel(cmd.via, dest));
  } else {
    socket = net.connect(cmd.dest.port, cmd.dest.host);
    await new Promise<void>((res, rej) => socket.once('connect', res).once('error', rej));
  }
  emit('tunnel', { tag: cmd.tag });
  socket.write(`GET /file HTTP/1.1\r\nHost: ${dest}\r\n${cmd.rangeFrom ? `Range: bytes=${cmd.rangeFrom}-\r\n` : ''}\r\n`);
  const t0 = nowMs();
  emit('request-sent', { tag: cmd.tag });
  sink(cmd.tag, socket, rest, cmd.out);
  if (cmd.abortAfterMs !== undefined) {
    setTimeout(() => {
      emit('abort', { tag: cmd.tag });
      socket.destroy();
    }, cmd.abortAfterMs);
  }
  if (cmd.migrate && cmd.via) {
    const m = cmd.migrate;
    const cred = { did: cmd.via.did, token: cmd.via.token };
    // Find the connection's id now, so that the request at the 5th second is one message.
    const list = await controlRequest<{ connections: { id: string; device: string | null; destination: string }[] }>(m.control, cred, 'GET', '/v1/connections');
    const conn = list.body.connections.find((c) => c.device === cmd.via!.did && c.destination === dest) ?? list.body.connections[0];
    if (!conn) throw new Error(`no connection to ${dest} in the control API`);
    const wait = t0 + m.afterMs - nowMs();
    setTimeout(() => {
      emit('migrate-sent', { tag: cmd.tag, connection: conn.id });
      controlRequest<Record<string, unknown>>(m.control, cred, 'POST', `/v1/connections/${conn.id}/migrate`, { to: m.to })
        .then((r) => emit('migrate-accepted', { tag: cmd.tag, status: r.status, migration: r.body }))
        .catch(fail);
    }, Math.max(0, wait));
  }
}

/** Opens the push channel to the proxy side and attaches when a push arrives on it. */
async function awaitPush(host: string, port: number): Promise<void> {
  const sock = net.connect(port, host);
  sock.setNoDelay(true);
  await new Promise<void>((res, rej) => sock.once('connect', res).once('error', rej));
  emit('push-channel');
  let text = '';
  sock.setEncoding('utf8');
  sock.on('data', (c: string) => {
    text += c;
    const nl = text.indexOf('\n');
    if (nl < 0) return;
    sock.destroy();
    const push = JSON.parse(text.slice(0, nl)) as { via: ProxyCredentials; destination: string; out: string; migration: string };
    emit('push', { tag: 'attach', migration: push.migration });
    connectTunnel(push.via, push.destination).then(({ socket, rest }) => {
      emit('tunnel', { tag: 'attach' });
      sink('attach', socket, rest, push.out);
    }).catch(fail);
  });
  sock.on('error', () => {});
}

onCommands(async (cmd) => {
  if (cmd.op === 'download') await download(cmd as unknown as Download);
  else if (cmd.op === 'await-push') await awaitPush(String(cmd.host), Number(cmd.port));
  else fail(`unknown op ${String(cmd.op)}`);
});
