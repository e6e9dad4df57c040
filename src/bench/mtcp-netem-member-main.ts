/**
 * One pool member of the M-TCP netem benchmark (`mtcp-netem.ts`), run inside its own network
 * namespace: the sample stream server on the kit. argv[2] is JSON `{pool, id, rate}`. Prints
 * `{"ev":"listening"}` on stdout when ready, then one `resumed` event per connection it took.
 * Exits when its stdin closes (the orchestrator ending it) or on SIGTERM.
 */
import { createServer } from 'node:net';
import { parseHostPort } from '../common/host-port.js';
import { streamHandler } from '../mtcp/examples/stream-server.js';
import { MtcpServer } from '../mtcp/server/mtcp-server.js';
import { parsePoolConfig } from '../mtcp/server/pool-config.js';
import { emit, fail, onCommands } from './paper/role-io.js';
import { monoMs } from './mtcp-mono-clock.js';

try {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as { pool: unknown; id: string; rate: number };
  const pool = parsePoolConfig(cfg.pool);
  const server = new MtcpServer({ pool, id: cfg.id, handler: streamHandler({ rate: cfg.rate }) });
  // Emitted right after RESUMED was written; `mono` is CLOCK_MONOTONIC (process.hrtime), one
  // clock for every process on the machine, so the orchestrator can split the client's reconnect
  // into the hello's way there and RESUMED's way back.
  server.on('resumed', (e: { cid: string; source: string; transferMs: number }) => emit('resumed', { cid: e.cid, source: e.source, transferMs: e.transferMs, mono: monoMs() }));
  const address = await server.listen();
  // The request/response RTT baseline (netperf's TCP_RR): a 1-byte echo served by this same
  // process on the next port, so a ping-pong pays what the hello/RESUMED exchange pays besides
  // the kit's own work: the network RTT and one wake-up of this process and of the client's.
  const { host, port } = parseHostPort(address);
  const echo = createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (b: Buffer) => s.write(b));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => echo.once('error', reject).listen(port + 1, host, () => resolve()));
  emit('listening', { id: cfg.id, address, echo: `${host}:${port + 1}` });
  process.once('SIGTERM', () => void server.close().finally(() => process.exit(0)));
  onCommands(() => {});
} catch (err) {
  fail(err);
  process.exitCode = 1;
}
