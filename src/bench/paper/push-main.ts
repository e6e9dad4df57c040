import net from 'node:net';
import { controlRequest } from './control-client.js';
import type { ProxyCredentials } from './http-connect-tunnel.js';
import { emit, fail, onCommands } from './role-io.js';

/**
 * Stand-in for the Migration-To-Request push, inside the proxy's namespace. With `--users` the
 * proxy has no push channel to the target device (that is the name server's and the agent's
 * job, issues 3 and 4), so this polls the control API on the proxy's own host every `pollMs` for a
 * new migration to the target device and sends the push over the emulated network, where it
 * crosses the target's link like the real one would. Like an agent's control channel, the device
 * holds a TCP connection to us open beforehand, so a push costs one one-way delay, not a
 * handshake. Polling adds at most `pollMs` plus one local HTTP request; the bench reports the
 * push time so that this cost stays visible.
 *
 * `{op:"listen", address}` → `{ev:"push-listening", port}`; `{op:"arm", ...}` waits for the
 * device's channel, then polls.
 */
let channel: Promise<net.Socket> | null = null;

function listen(address: string): void {
  let resolveChannel!: (s: net.Socket) => void;
  channel = new Promise((r) => { resolveChannel = r; });
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    resolveChannel(sock);
  });
  server.listen(0, address, () => emit('push-listening', { port: (server.address() as net.AddressInfo).port }));
}

interface Arm {
  control: { host: string; port: number };
  cred: { did: string; token: string };
  via: ProxyCredentials;
  out: string;
  pollMs: number;
  timeoutMs: number;
}

async function arm(cmd: Arm): Promise<void> {
  if (!channel) throw new Error('arm before listen');
  const sock = await channel;
  const deadline = Date.now() + cmd.timeoutMs;
  const seen = new Set<string>();
  const first = await controlRequest<{ migrations: { id: string }[] }>(cmd.control, cmd.cred, 'GET', '/v1/migrations');
  for (const m of first.body.migrations ?? []) seen.add(m.id);
  emit('armed');
  for (;;) {
    if (Date.now() > deadline) throw new Error(`no migration to ${cmd.cred.did} within ${cmd.timeoutMs} ms`);
    const r = await controlRequest<{ migrations: { id: string; to: string; destination: string }[] }>(cmd.control, cmd.cred, 'GET', '/v1/migrations');
    const m = (r.body.migrations ?? []).find((x) => !seen.has(x.id) && x.to === cmd.cred.did);
    if (m) {
      sock.end(JSON.stringify({ via: cmd.via, destination: m.destination, out: cmd.out, migration: m.id }) + '\n');
      emit('pushed', { migration: m.id });
      return;
    }
    await new Promise((res) => setTimeout(res, cmd.pollMs));
  }
}

onCommands(async (cmd) => {
  if (cmd.op === 'listen') listen(String(cmd.address));
  else if (cmd.op === 'arm') await arm(cmd as unknown as Arm);
  else if (cmd.op === 'get') {
    const r = await controlRequest(cmd.control as Arm['control'], cmd.cred as Arm['cred'], 'GET', String(cmd.path));
    emit('got', { id: cmd.id, status: r.status, body: r.body });
  } else fail(`unknown op ${String(cmd.op)}`);
});
