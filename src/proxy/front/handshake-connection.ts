import type { Socket } from 'node:net';
import { nowMs } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';

/** Why a handshake ended without a hand-over; counted in `FrontStats`. */
export type HandshakeFailure =
  | 'overload'
  | 'unknown-protocol'
  | 'timeout'
  | 'closed-early'
  | 'socket-error'
  | 'malformed'
  | 'oversized'
  | 'no-acceptable-method'
  | 'bad-credentials'
  | 'auth-unavailable'
  | 'command-not-supported'
  | 'method-not-allowed'
  | 'onconnect-failed';

export interface HandshakeEvents {
  onData(chunk: Buffer): void;
  /**
   * The client sent FIN. Node emits 'end' even on a paused socket once its buffer is empty, so
   * this can come while the request is complete but still being authenticated: the protocol
   * decides whether the handshake can still finish.
   */
  onEnd(): void;
  /** The deadline passed; the protocol may still write a last word before `fail`. */
  onTimeout(): void;
  /** Called once, when the handshake ends for any reason other than a hand-over. */
  onFailed(reason: HandshakeFailure): void;
  /** Called once, when the socket leaves the handshake (hand-over or close). */
  onSettled(): void;
}

const STATES = { HANDSHAKING: 'handshaking', HANDED_OVER: 'handed-over', CLOSING: 'closing' } as const;
type State = (typeof STATES)[keyof typeof STATES];

/** Kept on the socket after the hand-over so an error before the proxy attaches cannot crash. */
function errorGuard(): void {}

/**
 * The device socket while the front owns it: counts every byte written (the preamble the relay
 * subtracts from `tcpi_bytes_acked`), enforces the handshake deadline, and either hands the
 * socket over clean (paused, no listener but an error guard) or closes it with a lingering close.
 */
export class HandshakeConnection {
  /** When the socket came to the front (`nowMs()`), i.e. just after the kernel's accept. */
  readonly acceptedAt = nowMs();
  private written = 0;
  private state: State = STATES.HANDSHAKING;
  private settled = false;
  private deadline: NodeJS.Timeout | undefined;
  private readonly listeners: { data: (b: Buffer) => void; end: () => void; error: (e: Error) => void; close: () => void };

  constructor(
    readonly socket: Socket,
    private readonly options: { timeoutMs: number; lingerMs: number; logger: Logger },
    private readonly events: HandshakeEvents,
  ) {
    this.listeners = {
      data: (chunk) => this.events.onData(chunk),
      end: () => this.events.onEnd(),
      error: (err) => {
        this.options.logger.debug({ err }, 'device socket error during handshake');
        this.fail('socket-error');
      },
      close: () => this.settle(),
    };
    socket.on('data', this.listeners.data);
    socket.on('end', this.listeners.end);
    socket.on('error', this.listeners.error);
    socket.on('close', this.listeners.close);
    this.deadline = setTimeout(() => {
      if (this.state === STATES.HANDSHAKING) this.events.onTimeout();
    }, options.timeoutMs);
  }

  /** Still in the handshake: neither handed over nor closing. */
  get open(): boolean {
    return this.state === STATES.HANDSHAKING;
  }

  get preambleBytes(): number {
    return this.written;
  }

  write(bytes: Buffer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.written += bytes.length;
    // Handshake replies are a few bytes each; the kernel buffer absorbs them, so no backpressure.
    this.socket.write(bytes);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (this.open) this.socket.resume();
  }

  /** Leaves the socket to the proxy: paused, deadline cleared, only the error guard attached. */
  handOver(): void {
    if (!this.open) return;
    this.state = STATES.HANDED_OVER;
    this.socket.pause();
    this.detach();
    this.socket.on('error', errorGuard);
    this.settle();
  }

  /**
   * Ends the connection: writes `reply` if given, sends FIN, drops whatever the client still
   * sends for `lingerMs`, then destroys. Works both during the handshake and after a hand-over
   * (a `reject`).
   */
  fail(reason: HandshakeFailure | null, reply?: Buffer): void {
    if (this.state === STATES.CLOSING) return;
    const wasHandshaking = this.open;
    this.state = STATES.CLOSING;
    this.detach();
    this.socket.off('error', errorGuard);
    if (wasHandshaking && reason) this.events.onFailed(reason);
    const socket = this.socket;
    socket.on('error', errorGuard);
    if (socket.destroyed) return this.settle();
    if (reply) this.write(reply);
    if (this.options.lingerMs === 0) {
      socket.end();
      socket.destroy();
      return this.settle();
    }
    const linger = setTimeout(() => socket.destroy(), this.options.lingerMs);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
    socket.on('data', discard);
    socket.end();
    socket.resume();
    this.settle();
  }

  private detach(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.socket.off('data', this.listeners.data);
    this.socket.off('end', this.listeners.end);
    this.socket.off('error', this.listeners.error);
    this.socket.off('close', this.listeners.close);
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.state === STATES.HANDSHAKING) {
      // Closed under us (reset, or destroyed by the front's owner) before any outcome.
      this.state = STATES.CLOSING;
      this.detach();
      this.socket.on('error', errorGuard);
      this.events.onFailed('closed-early');
    }
    this.events.onSettled();
  }
}

function discard(): void {}
