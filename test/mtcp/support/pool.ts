import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { MtcpServer } from '../../../src/mtcp/server/mtcp-server.js';
import { parsePoolConfig, type PoolConfig } from '../../../src/mtcp/server/pool-config.js';
import type { MtcpServerOptions } from '../../../src/mtcp/server/server-options.js';
import { streamHandler, type StreamServiceOptions } from '../../../src/mtcp/examples/stream-server.js';
import { MtcpClientConnection } from '../../../src/mtcp/client/client-connection.js';
import { formatStreamRequest } from '../../../src/mtcp/examples/stream-protocol.js';

/**
 * Free loopback ports for a pool file (which needs addresses before the members listen). Taken
 * below Linux's ephemeral range (32768+), so that a member restarted after SIGKILL does not find
 * its port taken by some outgoing connection's source port.
 */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < n && tries < 200; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (ports.includes(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) ports.push(port);
  }
  if (ports.length < n) throw new Error('no free loopback ports below the ephemeral range');
  return ports;
}

export async function makePool(n: number, store = 'memory'): Promise<PoolConfig> {
  const ports = await freePorts(n);
  return parsePoolConfig({
    key: randomBytes(24).toString('hex'),
    members: ports.map((p, i) => ({ id: `s${i + 1}`, address: `127.0.0.1:${p}` })),
    store,
  });
}

export async function startPool(pool: PoolConfig, service: StreamServiceOptions = {}, extra: Partial<MtcpServerOptions> = {}): Promise<Map<string, MtcpServer>> {
  const servers = new Map<string, MtcpServer>();
  for (const m of pool.members) {
    const s = new MtcpServer({ pool, id: m.id, handler: streamHandler(service), ...extra });
    await s.listen();
    servers.set(m.id, s);
  }
  return servers;
}

export async function stopAll(servers: Iterable<MtcpServer>): Promise<void> {
  await Promise.all([...servers].map((s) => s.close().catch(() => {})));
}

/** Reads exactly `length` bytes (or until end), hashing them; bounded by `timeoutMs`. */
/** After each test: destroys the clients it opened (emptying `conns`) and stops its pool, if any. */
export async function closeClientsAndPool(conns: MtcpClientConnection[], servers: Map<string, MtcpServer> | undefined): Promise<void> {
  for (const c of conns.splice(0)) c.destroy();
  if (servers) await stopAll(servers.values());
}

export function readHashed(conn: MtcpClientConnection, length: number, timeoutMs: number, onProgress?: (got: number) => void): Promise<{ hash: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let got = 0;
    const timer = setTimeout(() => finish(new Error(`read timed out after ${timeoutMs} ms with ${got}/${length} bytes`)), timeoutMs);
    const onData = (c: Buffer): void => {
      const take = c.subarray(0, Math.max(0, length - got));
      h.update(take);
      got += c.length;
      onProgress?.(got);
      if (got >= length) finish();
    };
    const onErr = (e: Error): void => finish(e);
    const onEnd = (): void => finish();
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      conn.off('data', onData);
      conn.off('error', onErr);
      conn.off('end', onEnd);
      if (err) reject(err);
      else resolve({ hash: h.digest('hex'), bytes: got });
    };
    conn.on('data', onData);
    conn.once('error', onErr);
    conn.once('end', onEnd);
  });
}

export function request(conn: MtcpClientConnection, seed: string, length: number): void {
  conn.write(formatStreamRequest({ seed, length }));
}
