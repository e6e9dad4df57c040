import { connect, type Socket } from 'node:net';
import { parseHostPort } from '../../common/host-port.js';
import { TimeoutError } from '../../common/errors.js';
import { MtcpError, MtcpErrorCode, MtcpProtocolError, type MtcpErrorCodeValue } from '../errors.js';
import { encodeJsonFrame, FrameDecoder } from '../wire/frame-codec.js';
import { FrameType, PREAMBLE, type Frame } from '../wire/frame-types.js';
import { parseControl, rejectSchema, resumedSchema, welcomeSchema, type Hello, type Resumed, type Welcome } from '../wire/control-messages.js';

/**
 * One hello exchange with one member, as an explicit state machine:
 * CONNECTING → (TCP up, preamble + HELLO sent) → AWAITING_REPLY → WELCOME | RESUMED | REJECT.
 * Bounded by `timeoutMs` overall. On success the socket is handed over paused, with the decoder
 * and any frames that came in behind the reply.
 */
export const HANDSHAKE_STATES = { CONNECTING: 'connecting', AWAITING_REPLY: 'awaiting-reply', DONE: 'done', FAILED: 'failed' } as const;

/**
 * How the client decodes the member's frames: DATA in pieces as they arrive (no reassembly copy,
 * wire/frame-codec.ts). Mutable only so the benchmark can measure both ways in one run.
 */
export const clientDecoderTuning = { streamData: true };

export interface HandshakeResult<T> {
  socket: Socket;
  decoder: FrameDecoder;
  reply: T;
  rest: Frame[];
  connectedAt: number;
  /** `performance.now()` at TCP connect (sub-millisecond timings). */
  connectedPerf: number;
}

/**
 * A failed hello: `refused` when the member answered with REJECT (it is alive and said no), as
 * opposed to a connection that failed or closed before any answer.
 */
export class HandshakeError extends MtcpError {
  constructor(
    code: MtcpErrorCodeValue,
    message: string,
    readonly refused: boolean,
  ) {
    super(code, message);
  }
}

export function handshake(address: string, hello: Hello, timeoutMs: number, maxFrameBytes: number): Promise<HandshakeResult<Welcome | Resumed>> {
  const { host, port } = parseHostPort(address);
  return helloExchange(connect({ host, port }), false, address, hello, timeoutMs, maxFrameBytes);
}

/**
 * The same exchange on a socket that is already connected (the client's standby connection,
 * docs/mtcp.md "Standby connection"): the hello goes out at once, so the exchange costs one RTT
 * instead of two. `connectedPerf` is then the moment the hello was written.
 */
export function handshakeOnConnected(socket: Socket, address: string, hello: Hello, timeoutMs: number, maxFrameBytes: number): Promise<HandshakeResult<Welcome | Resumed>> {
  return helloExchange(socket, true, address, hello, timeoutMs, maxFrameBytes);
}

function helloExchange(socket: Socket, connected: boolean, address: string, hello: Hello, timeoutMs: number, maxFrameBytes: number): Promise<HandshakeResult<Welcome | Resumed>> {
  return new Promise((resolve, reject) => {
    let state: (typeof HANDSHAKE_STATES)[keyof typeof HANDSHAKE_STATES] = HANDSHAKE_STATES.CONNECTING;
    let connectedAt = 0;
    let connectedPerf = 0;
    const decoder = new FrameDecoder(maxFrameBytes, { streamData: clientDecoderTuning.streamData });
    socket.setNoDelay(true);
    const fail = (err: Error): void => {
      if (state === HANDSHAKE_STATES.DONE || state === HANDSHAKE_STATES.FAILED) return;
      state = HANDSHAKE_STATES.FAILED;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new TimeoutError(`M-TCP hello to ${address}`, timeoutMs)), timeoutMs);
    const sendHello = (): void => {
      connectedAt = Date.now();
      connectedPerf = performance.now();
      state = HANDSHAKE_STATES.AWAITING_REPLY;
      socket.write(Buffer.concat([PREAMBLE, encodeJsonFrame(FrameType.HELLO, hello)]));
    };
    socket.on('error', (err) => fail(err));
    socket.on('close', () => fail(new HandshakeError(MtcpErrorCode.MIGRATION_FAILED, `${address} closed the connection during the hello`, false)));
    const onData = (chunk: Buffer): void => {
      if (state !== HANDSHAKE_STATES.AWAITING_REPLY) return;
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        return fail(err as Error);
      }
      if (frames.length === 0) return;
      const [first, ...rest] = frames as [Frame, ...Frame[]];
      try {
        let reply: Welcome | Resumed;
        if (first.type === FrameType.REJECT) {
          const r = parseControl(rejectSchema, first.payload, 'reject');
          return fail(new HandshakeError(knownCode(r.code), `${address} refused: ${r.message}`, true));
        } else if (first.type === FrameType.WELCOME && hello.mode === 'new') reply = parseControl(welcomeSchema, first.payload, 'welcome');
        else if (first.type === FrameType.RESUMED && hello.mode === 'resume') reply = parseControl(resumedSchema, first.payload, 'resumed');
        else throw new MtcpProtocolError(`unexpected reply frame 0x${first.type.toString(16)}`);
        state = HANDSHAKE_STATES.DONE;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.removeAllListeners('close');
        socket.removeAllListeners('error');
        socket.pause();
        resolve({ socket, decoder, reply, rest, connectedAt, connectedPerf });
      } catch (err) {
        fail(err as Error);
      }
    };
    socket.on('data', onData);
    if (connected) {
      if (socket.destroyed || !socket.writable) return fail(new HandshakeError(MtcpErrorCode.MIGRATION_FAILED, `${address}: the standby connection is closed`, false));
      sendHello();
      socket.resume();
    } else socket.once('connect', sendHello);
  });
}

function knownCode(code: string): MtcpErrorCodeValue {
  return (Object.values(MtcpErrorCode) as string[]).includes(code) ? (code as MtcpErrorCodeValue) : MtcpErrorCode.MIGRATION_FAILED;
}
