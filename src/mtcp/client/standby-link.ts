import { connect, type Socket } from 'node:net';
import { parseHostPort } from '../../common/host-port.js';
import type { PoolMemberInfo } from '../wire/control-messages.js';

export interface StandbyOptions {
  /** First pause before re-opening a standby that failed or was closed; doubled each time. */
  retryMs: number;
  /** Cap on that pause. */
  maxRetryMs: number;
}

/**
 * One already-connected, idle TCP connection to the member a migration would go to next
 * (docs/mtcp.md, "Standby connection"). Nothing is sent on it until a migration takes it: the
 * hello then leaves at once and the migration costs one RTT plus the state transfer instead of
 * two RTTs (TCP handshake, then hello/RESUMED) plus the transfer.
 *
 * At most one socket at a time. A standby the member closes (its idle timeout, a restart) or
 * that fails is re-opened after a pause that doubles up to `maxRetryMs`, so a dead member costs
 * one connect attempt per pause, not a loop. The socket is unref'd: it never keeps a process up.
 */
export class StandbyLink {
  private target: PoolMemberInfo | undefined;
  private socket: Socket | undefined;
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  private pause: number;
  private closed = false;
  /** Standby sockets opened so far (for tests and the benchmark). */
  opened = 0;

  constructor(private readonly opts: StandbyOptions) {
    this.pause = opts.retryMs;
  }

  /** The member the standby points at, when it is connected and unused. */
  get readyFor(): string | undefined {
    return this.ready ? this.target?.id : undefined;
  }

  /** Keeps a standby to `member` (closing one to any other member); `undefined` drops it. */
  aim(member: PoolMemberInfo | undefined): void {
    if (this.closed) return;
    if (member && this.target && member.id === this.target.id && member.address === this.target.address && (this.socket || this.timer)) return;
    this.drop();
    this.target = member;
    this.pause = this.opts.retryMs;
    if (member) this.open();
  }

  /**
   * Hands over the standby socket if it is connected to `memberId` (the caller sends the hello
   * on it). The link then points nowhere until the next `aim`.
   */
  take(memberId: string): Socket | undefined {
    if (!this.ready || !this.socket || this.target?.id !== memberId || this.socket.destroyed) return undefined;
    const s = this.socket;
    this.socket = undefined;
    this.ready = false;
    this.target = undefined;
    s.removeAllListeners('data');
    s.removeAllListeners('close');
    s.removeAllListeners('error');
    s.removeAllListeners('connect');
    s.pause();
    s.ref();
    return s;
  }

  close(): void {
    this.closed = true;
    this.drop();
    this.target = undefined;
  }

  private open(): void {
    const m = this.target;
    if (!m || this.closed) return;
    const { host, port } = parseHostPort(m.address);
    const s = connect({ host, port });
    this.socket = s;
    this.ready = false;
    this.opened++;
    s.unref();
    s.setNoDelay(true);
    let connectedAt = 0;
    s.once('connect', () => {
      if (this.socket !== s) return;
      this.ready = true;
      connectedAt = Date.now();
    });
    // The member never speaks first: any byte here is a protocol error. Reading also lets a FIN
    // be noticed at once (a paused socket would not report it).
    s.on('data', () => s.destroy());
    s.on('error', () => {});
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.ready = false;
      // A standby that lived a while (closed by the member's idle timeout) is re-opened soon; one
      // closed right away keeps backing off.
      if (connectedAt > 0 && Date.now() - connectedAt > this.opts.maxRetryMs) this.pause = this.opts.retryMs;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.closed || !this.target || this.timer) return;
    const wait = this.pause;
    this.pause = Math.min(this.opts.maxRetryMs, this.pause * 2);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, wait);
    this.timer.unref();
  }

  private drop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    this.socket = undefined;
    this.ready = false;
    s?.destroy();
  }
}
