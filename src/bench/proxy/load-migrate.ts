import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { nowMs } from '../../common/clock.js';
import { TimeoutError } from '../../common/errors.js';
import { ControlApi, type ConnectionView, type MigrationView } from './control-api.js';
import { ProxyBenchError } from './errors.js';
import { closeGracefully } from './graceful-close.js';
import { dial, mapLimit } from './socks-dial.js';
import { MODE } from './source-protocol.js';
import { runQueueWaitMs } from '../run-queue-wait.js';
import { StreamReader } from './stream-reader.js';

export interface MigrateArgs {
  proxyPort: number;
  controlUrl: string;
  uid: string;
  /** Two devices of the user: name → token. Connections move back and forth between them. */
  devices: Record<string, string>;
  destPort: number;
  connections: number;
  /** Migrations per round. */
  migrations: number;
  /** Rounds of `migrations`, on the same open connections; each round gives its own p50/p99. */
  rounds: number;
  timeoutMs: number;
  /**
   * The target device sends its SOCKS5 greeting, authentication and CONNECT in one write, as the
   * tsmp agent does (one round trip instead of three in "connect →" figures).
   */
  pipelinedAttach: boolean;
  /** The proxy's processes (main threads): their run-queue wait during each migration is sampled. */
  proxyPids?: number[];
}

export interface MigrationSample {
  round: number;
  connectToFirstByteMs: number;
  connectToResumeMs: number;
  requestToResumeMs: number;
  bytesReplayed: number;
  /** Client view: POST /migrate sent → tunnel of the target open (SOCKS5 reply read). */
  clientRequestToTunnelMs: number;
  /**
   * Run-queue wait (ms) of the proxy's and of this generator's main threads from the migrate
   * request to its answer: CPU the machine owed them and gave to someone else meanwhile
   * (../run-queue-wait.ts). Includes the request/answer round trips around the measured window.
   */
  proxyRunQueueWaitMs: number;
  clientRunQueueWaitMs: number;
  /** Proxy phases relative to the target's connect (ms), to see where a slow one spent its time. */
  phasesMs: Record<string, number>;
}

export interface MigrateResult {
  connections: number;
  samples: MigrationSample[];
  /** Migrations whose state ended other than `done`. */
  failed: number;
  /** Bytes that were not the stream's bytes at their offset (must be 0). */
  wrongBytes: number;
  /** Old devices whose received count differed from the `fromOffset` the proxy reported (must be 0). */
  offsetMismatches: number;
  openSeconds: number;
}

interface Holder {
  device: string;
  reader: StreamReader;
  connId: string;
}

/**
 * Migration latency under load: `connections` pattern streams are opened through the proxy as
 * one device, then `migrations` of them, one after the other, move to the user's other device,
 * which attaches by destination as an unmodified application would. The proxy's own phase
 * timings (`GET /v1/migrations/{id}`) give the figures; every byte is checked on the way.
 */
export async function runMigrations(args: MigrateArgs): Promise<MigrateResult> {
  const api = new ControlApi(args.controlUrl, args.timeoutMs);
  const names = Object.keys(args.devices);
  if (names.length < 2) throw new ProxyBenchError('the migration bench needs two devices');
  const did = (name: string) => `${name}.${args.uid}`;
  const tunnel = (name: string, pipelined = false) => ({
    kind: 'tsmp' as const, port: args.proxyPort, user: did(name), pass: args.devices[name]!, host: '127.0.0.1', destPort: args.destPort, pipelined,
  });
  const readers: StreamReader[] = [];
  const t0 = performance.now();
  try {
    const first = names[0]!;
    await mapLimit(Array.from({ length: args.connections }), 100, async () => {
      const { socket } = await dial(tunnel(first), args.timeoutMs);
      socket.write(Buffer.from([MODE.stream]));
      readers.push(new StreamReader(socket, 0));
    });
    const openSeconds = (performance.now() - t0) / 1000;
    await waitFor(() => readers.every((r) => r.received > 0), args.timeoutMs, 'first bytes on every stream');
    const listed = await api.expect<{ connections: ConnectionView[] }>(200, did(first), args.devices[first]!, 'GET', '/v1/connections');
    const byAddress = new Map(listed.connections.map((c) => [c.deviceAddress, c.id]));
    const holders: Holder[] = readers.map((reader) => {
      const connId = byAddress.get(`127.0.0.1:${reader.socket.localPort}`);
      if (!connId) throw new ProxyBenchError(`the proxy does not list the connection from port ${reader.socket.localPort}`);
      return { device: first, reader, connId };
    });

    const samples: MigrationSample[] = [];
    let failed = 0;
    let offsetMismatches = 0;
    const oldReaders: Promise<void>[] = [];
    for (let k = 0; k < args.migrations * args.rounds; k++) {
      const round = Math.floor(k / args.migrations);
      const spread = Math.floor(((k % args.migrations) * holders.length) / args.migrations);
      const h = holders[(spread + round) % holders.length]!;
      const to = names.find((n) => n !== h.device)!;
      const asked = performance.now();
      const waited0 = { proxy: runQueueWaitMs(args.proxyPids ?? []), client: runQueueWaitMs([process.pid]) };
      const m = await api.expect<MigrationView>(202, did(h.device), args.devices[h.device]!, 'POST', `/v1/connections/${h.connId}/migrate`, { to });
      const next = await dial(tunnel(to, args.pipelinedAttach), args.timeoutMs);
      const tunnelAt = performance.now();
      const reader = new StreamReader(next.socket, null);
      const view = await waitForMigration(api, did(to), args.devices[to]!, m.id, args.timeoutMs);
      const waited = { proxy: runQueueWaitMs(args.proxyPids ?? []) - waited0.proxy, client: runQueueWaitMs([process.pid]) - waited0.client };
      if (view.state !== 'done' || view.fromOffset === null) {
        failed++;
        next.socket.destroy();
        continue;
      }
      reader.startAt(view.fromOffset);
      const old = h.reader;
      // The old device gets a FIN once it has acknowledged everything: what it read must end
      // exactly where the new device starts (DESIGN.md invariant 1).
      oldReaders.push(
        withTimeout(old.closed, args.timeoutMs, 'old device closed').then(() => {
          if (old.endOffset !== view.fromOffset) offsetMismatches++;
        }),
      );
      h.device = to;
      h.reader = reader;
      readers.push(reader);
      const t = view.timings ?? {};
      samples.push({
        round,
        connectToFirstByteMs: t.connectToFirstByteMs ?? NaN,
        connectToResumeMs: t.connectToResumeMs ?? NaN,
        requestToResumeMs: t.requestToResumeMs ?? NaN,
        bytesReplayed: view.bytesReplayed,
        clientRequestToTunnelMs: tunnelAt - asked,
        proxyRunQueueWaitMs: waited.proxy,
        clientRunQueueWaitMs: waited.client,
        // The target's own 'connect' event on the proxy's clock: a late one is the client's delay
        // in sending its handshake, not the proxy's.
        phasesMs: relativePhases({ ...view.phases, clientConnected: epochOf(next.connectedAt) }),
      });
    }
    await Promise.all(oldReaders);
    const wrongBytes = readers.reduce((sum, r) => sum + r.wrong, 0);
    await closeGracefully(readers.map((r) => r.socket), args.timeoutMs);
    return { connections: args.connections, samples, failed, wrongBytes, offsetMismatches, openSeconds };
  } finally {
    for (const r of readers) r.socket.destroy();
  }
}

/** A performance.now() reading of this process as epoch ms (the proxy's phases are epoch ms). */
const epochOf = (at: number): number => nowMs() - performance.now() + at;

function relativePhases(phases: Record<string, number>): Record<string, number> {
  const zero = phases.targetConnected ?? 0;
  return Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round((v - zero) * 1000) / 1000]));
}

async function waitForMigration(api: ControlApi, did: string, token: string, id: string, timeoutMs: number): Promise<MigrationView> {
  const deadline = performance.now() + timeoutMs;
  // One blocking query (`?wait=`, answered when the migration ends) instead of polling: a poll
  // every millisecond cost the proxy and this generator CPU during the very window measured.
  for (;;) {
    const wait = Math.max(1, Math.min(30_000, Math.round(deadline - performance.now())));
    const view = await api.expect<MigrationView>(200, did, token, 'GET', `/v1/migrations/${id}?wait=${wait}`);
    if (view.state === 'done' || view.state === 'failed' || view.state === 'rolled-back') return view;
    if (performance.now() > deadline) throw new TimeoutError(`migration ${id} (${view.state})`, timeoutMs);
  }
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new TimeoutError(what, timeoutMs);
    await sleep(10);
  }
}

function withTimeout(p: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms))),
  ]).finally(() => clearTimeout(timer));
}
