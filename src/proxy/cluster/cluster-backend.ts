import type { Worker } from 'node:cluster';
import type { DeviceIdentity } from '../auth/device-authenticator.js';
import type { ConnectionView, ControlBackend, MigrationView } from '../control/control-backend.js';
import { ControlRequestError, notFound } from '../migration/errors.js';
import type { ControlOp, PrimaryToWorker, WorkerToPrimary } from './ipc-messages.js';

const REQUEST_TIMEOUT_MS = 5_000;

/**
 * The control API's backend in the primary of a multi-process proxy. Ids carry the index of
 * the worker that holds them (connection ids start with it, migration ids follow their `m`), so
 * a request goes to one worker; listings ask all of them.
 */
export class ClusterControlBackend implements ControlBackend {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  /** Waiting migrations by ticket, so a worker that gets the target can find the holder. */
  readonly tickets = new Map<string, { owner: number; did: string; migration: string }>();

  constructor(private readonly workers: () => (Worker | undefined)[]) {}

  onResponse(msg: Extract<WorkerToPrimary, { tsmp: 'response' }>): void {
    const w = this.waiting.get(msg.seq);
    if (!w) return;
    this.waiting.delete(msg.seq);
    clearTimeout(w.timer);
    if (msg.ok) w.resolve(msg.value);
    else w.reject(new ControlRequestError(msg.error.code, msg.error.status as 404, msg.error.message));
  }

  private call<T>(index: number, call: ControlOp, extraMs = 0): Promise<T> {
    const worker = this.workers()[index];
    if (!worker || !worker.isConnected()) {
      return Promise.reject(new ControlRequestError('ERR_WORKER_UNAVAILABLE', 503, `proxy worker ${index} is not running`));
    }
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        reject(new ControlRequestError('ERR_WORKER_TIMEOUT', 503, `proxy worker ${index} did not answer`));
      }, REQUEST_TIMEOUT_MS + extraMs);
      this.waiting.set(seq, { resolve: resolve as (v: unknown) => void, reject, timer });
      worker.send({ tsmp: 'request', seq, call } satisfies PrimaryToWorker);
    });
  }

  private async all<T>(call: ControlOp): Promise<T[]> {
    const lists = await Promise.all(this.workers().map((w, i) => (w ? this.call<T[]>(i, call).catch(() => [] as T[]) : [])));
    return lists.flat();
  }

  private ownerOf(id: string, digit: number, what: 'connection' | 'migration'): number {
    const index = Number.parseInt(id[digit] ?? '', 16);
    if (!Number.isInteger(index) || index >= this.workers().length) throw notFound(what, id);
    return index;
  }

  listConnections(uid: string): Promise<ConnectionView[]> {
    return this.all<ConnectionView>({ op: 'list', uid });
  }

  getConnection(uid: string, id: string): Promise<ConnectionView> {
    return this.call(this.ownerOf(id, 0, 'connection'), { op: 'get', uid, id });
  }

  async closeConnection(uid: string, id: string): Promise<void> {
    await this.call(this.ownerOf(id, 0, 'connection'), { op: 'close', uid, id });
  }

  async startMigration(uid: string, id: string, target: DeviceIdentity, snapshot: unknown): Promise<MigrationView> {
    const owner = this.ownerOf(id, 0, 'connection');
    const m = await this.call<MigrationView & { ticket: string; destination: string }>(owner, { op: 'migrate', uid, id, target, snapshot });
    // Every worker learns of the migration before its requester gets the ticket.
    this.tickets.set(m.ticket, { owner, did: target.did, migration: m.id });
    this.broadcast({ tsmp: 'expect', migration: m.id, did: target.did, destination: m.destination, owner });
    return m;
  }

  /** Runs in the worker holding the connection; server migration ids (`s…`) carry it like `m…` ones. */
  migrateServer(uid: string, id: string, to: string | undefined): Promise<MigrationView> {
    return this.call(this.ownerOf(id, 0, 'connection'), { op: 'migrateServer', uid, id, ...(to !== undefined ? { to } : {}) });
  }

  getMigration(uid: string, id: string, waitMs = 0): Promise<MigrationView> {
    return this.call(this.ownerOf(id, 1, 'migration'), { op: 'getMigration', uid, id, ...(waitMs > 0 ? { waitMs } : {}) }, waitMs);
  }

  async listMigrations(uid: string): Promise<MigrationView[]> {
    const all = await this.all<MigrationView & { phases: { requested: number } }>({ op: 'listMigrations', uid });
    return all.sort((a, b) => b.phases.requested - a.phases.requested).slice(0, 50);
  }

  /** A migration ended: forget its ticket everywhere. */
  finished(migration: string): void {
    for (const [ticket, t] of this.tickets) if (t.migration === migration) this.tickets.delete(ticket);
    this.broadcast({ tsmp: 'unexpect', migration });
  }

  broadcast(msg: PrimaryToWorker): void {
    for (const w of this.workers()) if (w?.isConnected()) w.send(msg);
  }
}
