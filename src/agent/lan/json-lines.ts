import type { Socket } from 'node:net';
import { TimeoutError } from '../../common/errors.js';
import { PairingError, type PairingMessage } from './pairing-session.js';

/** Longest pairing message; the largest real one (the sealed secret) is well under 2 KiB. */
export const MAX_LINE_BYTES = 4096;

/** Newline-delimited JSON over a socket, bounded per line, with a timeout on every read. */
export class JsonLines {
  readonly #socket: Socket;
  readonly #queue: PairingMessage[] = [];
  #partial = '';
  #waiter: ((err?: Error) => void) | undefined;
  #error: Error | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.#onData(text));
    socket.on('error', (err) => this.#stop(err));
    socket.on('close', () => this.#stop(new PairingError('ERR_PAIRING_CLOSED', 'the other device closed the pairing connection')));
  }

  send(messages: PairingMessage[] | PairingMessage): void {
    for (const m of Array.isArray(messages) ? messages : [messages]) this.#socket.write(`${JSON.stringify(m)}\n`);
  }

  async next(timeoutMs: number): Promise<PairingMessage> {
    while (!this.#queue.length) {
      if (this.#error) throw this.#error;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new TimeoutError('waiting for the other device', timeoutMs)), timeoutMs);
        this.#waiter = (err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
      });
    }
    return this.#queue.shift()!;
  }

  close(): void {
    this.#socket.end();
  }

  #onData(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    if (Buffer.byteLength(this.#partial) > MAX_LINE_BYTES) return this.#stop(new PairingError('ERR_PAIRING_PROTOCOL', 'pairing message too long'), true);
    for (const line of lines) {
      if (Buffer.byteLength(line) > MAX_LINE_BYTES) return this.#stop(new PairingError('ERR_PAIRING_PROTOCOL', 'pairing message too long'), true);
      try {
        const m = JSON.parse(line) as PairingMessage;
        if (typeof m !== 'object' || m === null || typeof m.t !== 'string') throw new Error('no type');
        this.#queue.push(m);
      } catch {
        return this.#stop(new PairingError('ERR_PAIRING_PROTOCOL', 'malformed pairing message'), true);
      }
    }
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  #stop(err: Error, destroy = false): void {
    this.#error ??= err;
    if (destroy) this.#socket.destroy();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(this.#error);
  }
}
