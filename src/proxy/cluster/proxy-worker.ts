import type { Socket } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../../common/logger.js';
import type { DeviceAuthenticator } from '../auth/device-authenticator.js';
import { LocalControlBackend } from '../control/control-backend.js';
import { ControlRequestError } from '../migration/errors.js';
import { Proxy } from '../proxy.js';
import type { ClusterHooks, ProxyOptions } from '../proxy-options.js';
import type { AttachingDevice } from '../relay/relay-connection.js';
import { isTsmpMessage, type ControlOp, type PrimaryToWorker, type WorkerToPrimary } from './ipc-messages.js';

const OWNER_QUERY_TIMEOUT_MS = 2_000;

function send(msg: WorkerToPrimary, handle?: Socket): void {
  process.send!(msg, handle as never);
}

/**
 * One worker of `tsmp proxy --workers N`: a whole proxy data plane on the shared listening
 * socket, without a control API of its own. The primary asks it for its connections and
 * migrations, and it hands device sockets to the worker that holds their migration.
 */
export async function runProxyWorker(index: number, options: ProxyOptions, authenticator: DeviceAuthenticator, log: Logger): Promise<Proxy> {
  const expected = new Map<string, { did: string; destination: string; owner: number }>();
  const ownerQueries = new Map<number, (owner: number | null) => void>();
  let seq = 0;

  const hooks: ClusterHooks = {
    idPrefix: index.toString(16),
    async findOwner(identity, destination, ticket) {
      if (ticket === undefined) {
        for (const e of expected.values()) {
          if (e.did === identity.did && e.destination === destination && e.owner !== index) return e.owner;
        }
        return undefined;
      }
      const s = ++seq;
      const owner = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          ownerQueries.delete(s);
          resolve(null);
        }, OWNER_QUERY_TIMEOUT_MS);
        ownerQueries.set(s, (o) => {
          clearTimeout(timer);
          resolve(o);
        });
        send({ tsmp: 'owner-of-ticket', seq: s, ticket, did: identity.did });
      });
      return owner === null || owner === index ? undefined : owner;
    },
    async handoff(owner, dev, connectedAt, destination, ticket) {
      proxy.metrics.handoffs.inc();
      const socket = dev.socket;
      if (socket.writableLength > 0) await new Promise((resolve) => socket.once('drain', resolve));
      // Stop reading before the descriptor travels, and take what Node had buffered: the kernel
      // keeps every later byte for the receiving worker.
      (socket as unknown as { _handle?: { readStop(): void } })._handle?.readStop();
      const extra: Buffer[] = [];
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) extra.push(chunk);
      send(
        {
          tsmp: 'handoff',
          owner,
          destination,
          ...(ticket !== undefined ? { ticket } : {}),
          device: {
            identity: dev.identity,
            protocol: dev.protocol,
            preamble: dev.preamble,
            head: Buffer.concat([dev.head, ...extra]).toString('base64'),
            ended: socket.readableEnded,
            connectedAt,
          },
        },
        socket,
      );
    },
  };

  const proxy = new Proxy({ ...options, control: null }, { authenticator, logger: log, cluster: hooks });
  const backend = new LocalControlBackend(proxy.connections, proxy.migrations, proxy.serverMigrations);
  // Constructing one installs prom-client's reply to the primary's metric requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([proxy.metrics.registry]);
  proxy.migrations.finishedListeners.push((m) => send({ tsmp: 'finished', migration: m.id }));

  process.on('message', (msg: unknown, handle: unknown) => {
    if (!isTsmpMessage(msg)) return;
    const m = msg as PrimaryToWorker;
    switch (m.tsmp) {
      case 'request':
        void answer(backend, m.seq, m.call);
        break;
      case 'owner-answer':
        ownerQueries.get(m.seq)?.(m.owner);
        ownerQueries.delete(m.seq);
        break;
      case 'expect':
        expected.set(m.migration, { did: m.did, destination: m.destination, owner: m.owner });
        break;
      case 'unexpect':
        expected.delete(m.migration);
        break;
      case 'adopt':
        adopt(proxy, m, handle as Socket);
        break;
    }
  });

  const bound = await proxy.start();
  send({ tsmp: 'listening', port: bound.listen.port });
  return proxy;
}

function adopt(proxy: Proxy, m: Extract<PrimaryToWorker, { tsmp: 'adopt' }>, socket: Socket): void {
  if (!socket) return;
  socket.allowHalfOpen = true; // as on the front's own sockets: a FIN is a half-close
  const d = m.device;
  const dev: AttachingDevice = {
    identity: d.identity,
    protocol: d.protocol,
    socket,
    preamble: d.preamble,
    head: Buffer.from(d.head, 'base64'),
    ended: d.ended,
  };
  const migration = proxy.migrations.match(d.identity, m.destination, m.ticket);
  if (!migration) {
    socket.destroy();
    return;
  }
  void proxy.adopt(dev, migration.id, d.connectedAt);
}

async function answer(backend: LocalControlBackend, seq: number, call: ControlOp): Promise<void> {
  try {
    let value: unknown;
    switch (call.op) {
      case 'list':
        value = await backend.listConnections(call.uid);
        break;
      case 'get':
        value = await backend.getConnection(call.uid, call.id);
        break;
      case 'close':
        value = await backend.closeConnection(call.uid, call.id);
        break;
      case 'migrate':
        value = await backend.startMigration(call.uid, call.id, call.target, call.snapshot);
        break;
      case 'migrateServer':
        value = await backend.migrateServer(call.uid, call.id, call.to);
        break;
      case 'getMigration':
        value = await backend.getMigration(call.uid, call.id, call.waitMs ?? 0);
        break;
      case 'listMigrations':
        value = await backend.listMigrations(call.uid);
        break;
    }
    send({ tsmp: 'response', seq, ok: true, value: value ?? null });
  } catch (err) {
    const e = err instanceof ControlRequestError ? err : undefined;
    send({
      tsmp: 'response',
      seq,
      ok: false,
      error: { code: e?.code ?? 'ERR_INTERNAL', status: e?.status ?? 500, message: e ? e.message : 'internal error' },
    });
  }
}
