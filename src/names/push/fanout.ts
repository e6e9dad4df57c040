/**
 * Fan-out between name-server processes that share one database (issue 3, "Stores"): a push for
 * an agent connected to another process, and CoA changes for proxies subscribed there, travel
 * over PostgreSQL LISTEN/NOTIFY. Nothing home-made: one channel, JSON payloads under the
 * 8000-byte NOTIFY limit (https://www.postgresql.org/docs/current/sql-notify.html).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../common/logger.js';
import type { CoaEvent, PushMessage } from '../service/context.js';

export type FanoutEvent =
  | { kind: 'push'; did: string; message: PushMessage }
  | { kind: 'coa'; event: CoaEvent }
  | { kind: 'disconnect'; did: string };

export interface Fanout {
  /** True when other processes may hold sessions, so an undelivered push is not yet lost. */
  readonly shared: boolean;
  publish(ev: FanoutEvent): Promise<void>;
  onEvent(handler: (ev: FanoutEvent) => void): void;
  close(): Promise<void>;
}

/** One process, nothing to fan out to. */
export class LocalFanout implements Fanout {
  readonly shared = false;
  async publish(): Promise<void> {}
  onEvent(): void {}
  async close(): Promise<void> {}
}

export class PgFanout implements Fanout {
  readonly shared = true;
  private readonly node = randomUUID();
  private readonly channel: string;
  private listener: pg.Client | null = null;
  private handler: (ev: FanoutEvent) => void = () => {};
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  private constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    schema: string,
    private readonly log: Logger,
  ) {
    this.channel = `tsmp_names_${schema}`;
  }

  static async open(url: string, pool: pg.Pool, schema: string, log: Logger): Promise<PgFanout> {
    const f = new PgFanout(url, pool, schema, log);
    await f.listen();
    return f;
  }

  private async listen(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000 });
    c.on('notification', (n) => this.receive(n.payload));
    c.on('error', (err) => {
      this.log.warn({ err }, 'fan-out listener lost its connection; reconnecting');
      this.reconnect();
    });
    await c.connect();
    await c.query(`LISTEN ${this.channel}`);
    this.listener = c;
  }

  private reconnect(): void {
    const old = this.listener;
    this.listener = null;
    old?.end().catch(() => {});
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.closed) this.listen().catch(() => this.reconnect());
    }, 1000);
  }

  private receive(payload: string | undefined): void {
    if (!payload) return;
    try {
      const { node, ev } = JSON.parse(payload) as { node: string; ev: FanoutEvent };
      if (node !== this.node) this.handler(ev);
    } catch (err) {
      this.log.warn({ err }, 'ignoring a malformed fan-out payload');
    }
  }

  async publish(ev: FanoutEvent): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify({ node: this.node, ev })]);
  }

  onEvent(handler: (ev: FanoutEvent) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.listener?.end().catch(() => {});
    this.listener = null;
  }
}
