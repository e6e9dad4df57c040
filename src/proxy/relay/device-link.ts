import type { Socket } from 'node:net';
import type { DeviceIdentity } from '../auth/device-authenticator.js';
import type { FrontProtocol } from '../front/types.js';
import { closeFd, dupFd, fdOf, libuvQueuedBytes, tcpInfoOfFd, unackedBytesOfFd } from '../kernel/tcp-info.js';

/**
 * One device's sub-connection of a relayed connection: the socket between the device and the
 * proxy, and what the kernel knows of it.
 *
 * The link keeps a duplicate of the socket's descriptor. Node closes its own descriptor as soon
 * as the device resets the connection; the duplicate keeps the kernel socket, and with it
 * `tcpi_bytes_acked`, readable until the link is released. That is what lets a replay start
 * exactly where a device that vanished had acknowledged (issue 2, "Migration" step 2).
 */
export class DeviceLink {
  /** Server-stream offset of this link's first payload byte. */
  readonly startOffset: number;
  /** Payload bytes handed to the socket (server→device). */
  written = 0;
  /** Payload bytes read from the device (device→server). */
  received = 0;
  private dupedFd: number;
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
    const fd = fdOf(socket);
    this.dupedFd = fd >= 0 ? dupFd(fd) : -1;
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
    if (this.dupedFd < 0) return 0;
    try {
      const acked = Number(tcpInfoOfFd(this.dupedFd).bytesAcked) - this.preamble;
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
    if (libuvQueuedBytes(this.socket) > 0 || this.socket.writableLength > 0) return false;
    if (this.dupedFd < 0) return false;
    try {
      return unackedBytesOfFd(this.dupedFd) === 0 && this.ackedPayload() === this.written;
    } catch {
      return false;
    }
  }

  /**
   * Freezes the acknowledged count and lets go of the kernel socket. After this the link's
   * offsets are final. Called when the device is cut or lost; idempotent.
   */
  release(): number {
    if (this.finalAcked === undefined) this.finalAcked = this.ackedPayload();
    if (this.dupedFd >= 0) {
      closeFd(this.dupedFd);
      this.dupedFd = -1;
    }
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
