import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { digestStreamSlice } from '../../src/common/digest-stream.js';
import { tcpInfo } from '../../src/proxy/kernel/tcp-info.js';
import { collect, did, startProxy, TOKENS, until, type Harness } from '../support/proxy-harness.js';
import { socksConnect } from '../support/socks-client.js';
import { expectedHash } from '../support/stream-server.js';
import { setCongestionControl } from '../support/congestion.js';

let harness: Harness | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  for (const c of cleanups.splice(0)) c();
});

/**
 * A server that writes as fast as the window lets it (or at most `bytesPerS`), `total` bytes, and
 * keeps its socket.
 */
async function blastServer(total: number, bytesPerS = Infinity): Promise<{ port: number; socket: () => Socket | undefined; sent: () => number }> {
  let sock: Socket | undefined;
  let sent = 0;
  const srv = createServer({ allowHalfOpen: true }, (s) => {
    sock = s;
    setCongestionControl(s, 'cubic');
    s.on('error', () => {});
    const start = performance.now();
    const pump = () => {
      while (sent < total) {
        if (sent > ((performance.now() - start) / 1000) * bytesPerS) return void setTimeout(pump, 5);
        const n = Math.min(65536, total - sent);
        const ok = s.write(digestStreamSlice('tsmp', sent, n));
        sent += n;
        if (!ok) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    sock?.destroy();
    srv.close();
  });
  return { port: (srv.address() as AddressInfo).port, socket: () => sock, sent: () => sent };
}

/** `ss -tin` on the server's socket: the retransmission counters and ssthresh. */
function ssState(port: number): { retrans: string; ssthresh: string; line: string } {
  const out = execFileSync('ss', ['-tinH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  const line = out.replace(/\s+/g, ' ');
  return { retrans: /retrans:(\S+)/.exec(line)?.[1] ?? '0', ssthresh: /ssthresh:(\d+)/.exec(line)?.[1] ?? 'none', line };
}

describe('the transient pause', () => {
  it('a pause of 2 s shows the server a zero window, no retransmission, an unchanged ssthresh', async () => {
    harness = await startProxy({ migrationTimeoutMs: 10_000 });
    const total = 32 * 1024 * 1024;
    // At most 16 MB/s: unthrottled on loopback the whole stream could be sent (into the kernel's
    // buffers) before the migrate request lands on a loaded machine, and there is no pause to see.
    const srv = await blastServer(total, 16e6);
    const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', srv.port);
    const gotA = collect(a.socket);
    await until(() => gotA.bytes() > 4 * 1024 * 1024, 10_000, 'data');
    const [conn] = (await harness.api('phone', 'GET', '/v1/connections')).json.connections;
    const m = (await harness.api('phone', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' })).json;
    // The server stops at the proxy's closed window within a few round trips; measure from there.
    await until(() => tcpInfo(srv.socket()!).sndWnd === 0, 5_000, 'the window to close');
    const before = ssState(srv.port);
    const infoBefore = tcpInfo(srv.socket()!);
    await new Promise((r) => setTimeout(r, 2_200));
    const info = tcpInfo(srv.socket()!);
    expect(info.sndWnd).toBe(0); // the proxy's window, as the server sees it: closed
    expect(info.totalRetrans).toBe(infoBefore.totalRetrans);
    expect(info.sndSsthresh).toBe(infoBefore.sndSsthresh);
    expect(info.state).toBe(1); // still ESTABLISHED: no reset, no timeout
    expect(srv.sent()).toBeLessThan(total); // the server is held back, not finished
    const during = ssState(srv.port);
    expect(during.retrans).toBe(before.retrans);
    expect(during.ssthresh).toBe(before.ssthresh);
    expect(during.line).not.toMatch(/\bloss\b/);

    const b = await socksConnect(harness.port, did('pc'), TOKENS.pc, '127.0.0.1', srv.port);
    const gotB = collect(b.socket);
    await Promise.all([gotA.ended, gotB.ended]);
    const done = (await harness.api('pc', 'GET', `/v1/migrations/${m.id}`)).json;
    expect(done.state).toBe('done');
    expect(gotA.bytes() + gotB.bytes()).toBe(total);
    expect(gotB.hash()).toBe(expectedHash(done.fromOffset, total));
  });

  it('a device that never reads cannot grow the proxy past --max-buffer', async () => {
    const maxBuffer = 256 * 1024;
    harness = await startProxy({ maxBuffer });
    const total = 24 * 1024 * 1024;
    const srv = await blastServer(total);
    const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', srv.port);
    a.socket.pause();
    const conn = () => [...harness!.proxy.connections.all()][0]!;
    await until(() => conn().bytesDown > 0, 5_000, 'data');
    let last = -1;
    // Wait until the server is held: what the proxy read stops growing.
    await until(async () => {
      const now = conn().bytesDown;
      const stable = now === last;
      last = now;
      await new Promise((r) => setTimeout(r, 300));
      return stable;
    }, 20_000, 'the proxy to stop reading');
    expect(conn().bytesBuffered).toBeLessThanOrEqual(maxBuffer + 65_536);
    expect(srv.sent()).toBeLessThan(total);
    const got = collect(a.socket);
    await got.ended;
    expect(got.bytes()).toBe(total);
    expect(got.hash()).toBe(expectedHash(0, total));
  });

  it('a slow stream keeps only what the device has not acknowledged, not every chunk since the last 256 KiB', async () => {
    harness = await startProxy();
    // 1 KiB every 10 ms: 150 KiB in 1.5 s, below the byte threshold of the routine trim. The
    // time-based trim (RelayOptions.trimIntervalMs) must release what the device acknowledged.
    const total = 150 * 1024;
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const srv = createServer((s) => {
      s.on('error', () => {});
      timer = setInterval(() => {
        s.write(digestStreamSlice('tsmp', sent, 1024));
        sent += 1024;
        if (sent >= total) {
          clearInterval(timer);
          s.end();
        }
      }, 10);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      clearInterval(timer);
      srv.close();
    });
    const a = await socksConnect(harness.port, did('phone'), TOKENS.phone, '127.0.0.1', (srv.address() as AddressInfo).port);
    const got = collect(a.socket);
    const conn = () => [...harness!.proxy.connections.all()][0]!;
    await until(() => conn().bytesDown >= 100 * 1024, 10_000, '100 KiB relayed');
    // A device on loopback acknowledges within a millisecond; what stays is what arrived since
    // the last question (at most 250 ms of a 100 KiB/s stream) and the chunk in flight.
    expect(conn().bytesCached).toBeLessThanOrEqual(40 * 1024);
    await got.ended;
    expect(got.bytes()).toBe(total);
    expect(got.hash()).toBe(expectedHash(0, total));
  });
});
