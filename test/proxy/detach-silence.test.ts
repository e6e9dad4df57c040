import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, did, startProxy, TOKENS, until, type Harness } from '../support/proxy-harness.js';
import { canUseNetns, createNamespacePeer } from '../support/netns.js';
import { socksConnect } from '../support/socks-client.js';
import { expectedHash, startStreamServer, type StreamServer } from '../support/stream-server.js';

const CLIENT = fileURLToPath(new URL('../support/reading-client.mjs', import.meta.url));
const NETNS = canUseNetns();
if (!NETNS) console.log('skipping the keepalive-silence test: it needs root and ip netns');

let harness: Harness | undefined;
let server: StreamServer | undefined;
let peer: ReturnType<typeof createNamespacePeer> | undefined;
afterEach(async () => {
  peer?.remove();
  await harness?.close();
  await server?.close();
  harness = server = peer = undefined;
});

describe.skipIf(!NETNS)('a device that falls silent', () => {
  it('is detached after the keepalive bound, and the stream resumes exactly on another device', async () => {
    peer = createNamespacePeer();
    harness = await startProxy({ listen: { host: peer.hostAddress, port: 0 }, keepaliveMs: 1_000 });
    const total = 8 * 1024 * 1024;
    server = await startStreamServer({ total, chunk: 16 * 1024, intervalMs: 5 });
    // The phone's application runs inside the namespace, across the veth.
    const child = spawn('ip', ['netns', 'exec', peer.ns, process.execPath, CLIENT, `${peer.hostAddress}:${harness.port}`, did('phone'), TOKENS.phone, '127.0.0.1', String(server.port)]);
    let lastRead = 0;
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      for (const line of t.split('\n')) if (/^\d+$/.test(line)) lastRead = Number(line);
    });
    try {
      await until(() => lastRead > 256 * 1024, 20_000, 'the phone to read');
      // The phone walks out of range: its link goes down, nothing answers any more.
      peer.exec(['ip', 'link', 'set', 'eth0', 'down']);
      await until(async () => (await harness!.api('pc', 'GET', '/v1/connections')).json.connections[0]?.state === 'detached', 15_000, 'detach');
    } finally {
      child.kill('SIGKILL');
    }
    const [conn] = (await harness.api('pc', 'GET', '/v1/connections')).json.connections;
    const m = (await harness.api('pc', 'POST', `/v1/connections/${conn.id}/migrate`, { to: 'pc' })).json;
    const b = await socksConnect(harness.port, did('pc'), TOKENS.pc, `${m.ticket}.ticket.tsmp.invalid`, 1, peer.hostAddress);
    const got = collect(b.socket);
    await got.ended;
    const done = (await harness.api('pc', 'GET', `/v1/migrations/${m.id}`)).json;
    expect(done.fromOffset).toBeGreaterThanOrEqual(lastRead);
    expect(got.hash()).toBe(expectedHash(done.fromOffset, total));
  }, 60_000);
});
