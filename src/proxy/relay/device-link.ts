import type { Socket } from 'node:net';
import type { DeviceIdentity } from '../auth/device-authenticator.js';
import type { FrontProtocol } from '../front/types.js';
import { bytesAckedOfFd, fdOf, libuvQueuedBytes, tcpInfoOfFd, unackedBytesOfFd } from '../kernel/tcp-info.js';

interface ClosableHandle {
  close(...args: unknown[]): unknown;
}

/**
 * One device's sub-connection of a relayed connection: the socket between the device and the
 * proxy, and what the kernel knows of it.
 *
 * Node closes a socket's descriptor as soon as the device resets the connection, and with it goes
 * the kernel's `tcpi_bytes_acked`. The link therefore reads that count one last time just before
 * the descriptor is closed (it wraps the handle's `close`), which is what lets a replay start
 * exactly where a device that vanished had acknowledged (issue 2, "Migration" step 2). An
 * earlier version kept a `dup()` of every descriptor instead; that cost a third descriptor per
 * relayed connection.
 */
export class DeviceLink {
  /** Server-stream offset of this link's first payload byte. */
  readonly startOffset: number;
  /** Payload bytes handed to the socket (server→device). */
  written = 0;
  /** Payload bytes read from the device (device→server). */
  received = 0;
  private finalAcked: number | undefined;

  constructor(
    readonly identity: DeviceIdentity,
    readonly protocol: FrontProtocol,
    readonly socket: Socket,
    /** Bytes the handshake wrote to the socket before the tunnel's first payload byte. */
    private readonly preamble: number,
    startOffset: number,
  ) {
    this.startOffset = startOffset;
    const handle = (socket as unknown as { _handle?: ClosableHandle | null })._handle;
    if (handle) {
      const close = handle.close;
      handle.close = (...args: unknown[]) => {
        this.release();
        return close.apply(handle, args);
      };
    }
  }

  /** Server-stream offset one past the last byte handed to the socket. */
  get writtenOffset(): number {
    return this.startOffset + this.written;
  }

  /**
   * Payload bytes the device's TCP acknowledged, from the kernel (RFC 4898 ThruOctetsAcked minus
   * the handshake replies), never more than what was written.
   */
  ackedPayload(): number {
    if (this.finalAcked !== undefined) return this.finalAcked;
    const fd = fdOf(this.socket);
    if (fd < 0) return 0;
    try {
      const acked = bytesAckedOfFd(fd) - this.preamble;
      return Math.max(0, Math.min(this.written, acked));
    } catch {
      return 0;
    }
  }

  /** Server-stream offset up to which the device acknowledged. */
  ackedOffset(): number {
    return this.startOffset + this.ackedPayload();
  }

  /**
   * True when every byte handed to the socket left libuv and was acknowledged by the device:
   * the device has received exactly `written` bytes, and no more can arrive.
   */
  isDrained(): boolean {
    if (this.finalAcked !== undefined) return false;
    if (libuvQueuedBytes(this.socket) > 0 || this.socket.writableLength > 0) return false;
    return this.kernelQuery(false, (fd) => unackedBytesOfFd(fd) === 0 && this.ackedPayload() === this.written);
  }

  /**
   * Payload bytes sent to the device but not acknowledged: what may or may not reach it after a
   * reset (SIOCOUTQ minus tcpi_notsent_bytes; bytes not yet sent are discarded by the reset and
   * are not in doubt). 0 when the socket is already gone.
   */
  bytesInFlight(): number {
    return this.kernelQuery(0, (fd) => Math.max(0, unackedBytesOfFd(fd) - tcpInfoOfFd(fd).notsentBytes));
  }

  /** The connection's smoothed RTT in ms (tcpi_rtt, bottleneck queueing included); undefined when gone. */
  smoothedRttMs(): number | undefined {
    return this.kernelQuery(undefined, (fd) => tcpInfoOfFd(fd).rtt / 1000);
  }

  /** A kernel query on the device's descriptor, or `otherwise` once it is closed or the query fails. */
  private kernelQuery<T>(otherwise: T, query: (fd: number) => T): T {
    const fd = fdOf(this.socket);
    if (fd < 0) return otherwise;
    try {
      return query(fd);
    } catch {
      return otherwise;
    }
  }

  /**
   * Freezes the acknowledged count: from now on the link's offsets are final. Called when the
   * device is cut or lost, and by the descriptor's close; idempotent.
   */
  release(): number {
    if (this.finalAcked === undefined) this.finalAcked = this.ackedPayload();
    return this.finalAcked;
  }

  /** Ends the device's download direction with a FIN (used once it is fully drained). */
  endGracefully(): void {
    this.release();
    this.socket.end();
  }

  /**
   * Cuts the device off with a reset, so that no byte still queued towards it is delivered
   * after its acknowledged count was frozen.
   */
  abort(): void {
    this.release();
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }
}
