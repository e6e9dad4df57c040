import cluster, { type Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { TsmpError } from '../../common/errors.js';
import type { HostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/logger.js';
import type { DeviceAuthenticator } from '../auth/device-authenticator.js';
import { buildControlServer } from '../control/control-server.js';
import { ClusterControlBackend } from './cluster-backend.js';
import { isTsmpMessage, type PrimaryToWorker, type WorkerToPrimary } from './ipc-messages.js';

const START_TIMEOUT_MS = 30_000;

export interface PrimaryOptions {
  workers: number;
  control: HostPort;
  tls?: { cert: Buffer; key: Buffer };
  authenticator: DeviceAuthenticator;
  logger: Logger;
}

/**
 * The primary of `tsmp proxy --workers N`: forks the workers, which share the listening socket
 * (the kernel spreads accepted connections over them, so the primary stays off the data path),
 * serves the control API for all of them, and passes device sockets between workers when a
 * migration's target lands on another worker than the one holding the connection.
 */
export async function runProxyPrimary(options: PrimaryOptions): Promise<{ listen: number; control: HostPort; close(): Promise<void> }> {
  const log = options.logger;
  const workers: (Worker | undefined)[] = new Array(options.workers).fill(undefined);
  const backend = new ClusterControlBackend(() => workers);
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let listenPort = 0;
  const listening = new Set<number>();
  let onAllListening: (() => void) | undefined;

  const onMessage = (index: number) => (msg: unknown, handle: unknown) => {
    if (!isTsmpMessage(msg)) return;
    const m = msg as WorkerToPrimary;
    switch (m.tsmp) {
      case 'listening':
        listenPort = m.port;
        listening.add(index);
        if (listening.size === options.workers) onAllListening?.();
        break;
      case 'response':
        backend.onResponse(m);
        break;
      case 'owner-of-ticket': {
        const t = backend.tickets.get(m.ticket);
        const owner = t && t.did === m.did ? t.owner : null;
        workers[index]?.send({ tsmp: 'owner-answer', seq: m.seq, owner } satisfies PrimaryToWorker);
        break;
      }
      case 'finished':
        backend.finished(m.migration);
        break;
      case 'handoff': {
        const target = workers[m.owner];
        const socket = handle as Socket | undefined;
        if (!target?.isConnected() || !socket) {
          socket?.destroy();
          break;
        }
        const adopt: PrimaryToWorker = { tsmp: 'adopt', destination: m.destination, device: m.device, ...(m.ticket !== undefined ? { ticket: m.ticket } : {}) };
        target.send(adopt, socket as never);
        break;
      }
    }
  };

  const fork = (index: number) => {
    const worker = cluster.fork({ TSMP_WORKER_INDEX: String(index) });
    workers[index] = worker;
    worker.on('message', onMessage(index));
    worker.on('exit', (code, signal) => {
      if (workers[index] === worker) workers[index] = undefined;
      if (stopping) return;
      // Its connections are gone with it; the port keeps being served by a new worker.
      log.error({ worker: index, code, signal }, 'proxy worker died; starting a new one');
      fork(index);
    });
  };

  // Each worker accepts on the shared socket itself (no round-robin through the primary).
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TsmpError('ERR_WORKERS_START', `proxy workers did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    onAllListening = () => {
      clearTimeout(timer);
      resolve();
    };
    for (let i = 0; i < options.workers; i++) fork(i);
  });

  const control = buildControlServer({
    authenticator: options.authenticator,
    backend,
    metrics: async () => ({ contentType: aggregator.contentType, text: await aggregator.clusterMetrics() }),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  await control.listen({ host: options.control.host, port: options.control.port });
  const controlPort = (control.server.address() as { port: number }).port;
  return {
    listen: listenPort,
    control: { host: options.control.host, port: controlPort },
    async close() {
      stopping = true;
      await control.close();
      await Promise.all(
        workers.map((w) =>
          w ? new Promise<void>((resolve) => {
            const timer = setTimeout(() => { w.process.kill('SIGKILL'); resolve(); }, 5_000);
            w.once('exit', () => { clearTimeout(timer); resolve(); });
            w.process.kill('SIGTERM');
          }) : undefined,
        ),
      );
    },
  };
}
