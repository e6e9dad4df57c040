import { decodeAddress, encodeAddress } from '../proxy-client/socks5-address.js';
import { ATYP, COMMAND, METHOD, REPLY, SOCKS_VERSION, type ReplyCode } from '../proxy-client/socks5-codes.js';

export const STATES = {
  /** Waiting for VER NMETHODS METHODS (RFC 1928 section 3). */
  GREETING: 'greeting',
  /** Waiting for the request (RFC 1928 section 4). */
  REQUEST: 'request',
  /** The request was parsed; the endpoint now owns the socket and writes the reply. */
  DONE: 'done',
  FAILED: 'failed',
} as const;
export type ServerState = (typeof STATES)[keyof typeof STATES];

export interface ConnectRequest {
  host: string;
  port: number;
  /** Bytes the client pipelined behind its request; they belong to the tunnel. */
  rest: Buffer;
}

export interface ServerStep {
  /** Bytes to write to the client, in order. */
  send: Buffer[];
  request?: ConnectRequest;
  /** Set when the handshake failed: write `send`, then close. */
  error?: string;
}

/** A greeting carries at most 255 methods; a request at most a 255-byte name. */
const MAX_HANDSHAKE_BYTES = 2 + 255 + 4 + 1 + 255 + 2;

/**
 * The server side of SOCKS5 with "no authentication required" only, for the agent's loopback
 * endpoint (issue 4: browsers that cannot do SOCKS authentication). Pure: bytes in, steps out.
 */
export class Socks5NoAuthServerHandshake {
  state: ServerState = STATES.GREETING;
  #buffer: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer): ServerStep {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const step: ServerStep = { send: [] };
    if (this.#buffer.length > MAX_HANDSHAKE_BYTES && this.state !== STATES.DONE) return this.#fail(step, 'handshake too long', REPLY.GENERAL_FAILURE);
    for (;;) {
      switch (this.state) {
        case STATES.GREETING: {
          //  |VER | NMETHODS | METHODS  |
          if (this.#buffer.length >= 1 && this.#buffer[0] !== SOCKS_VERSION) return this.#fail(step, `not SOCKS5 (version byte ${this.#buffer[0]})`);
          if (this.#buffer.length < 2) return step;
          if (this.#buffer[0] !== SOCKS_VERSION) return this.#fail(step, `not SOCKS5 (version byte ${this.#buffer[0]})`);
          const n = this.#buffer[1]!;
          if (this.#buffer.length < 2 + n) return step;
          const methods = this.#buffer.subarray(2, 2 + n);
          this.#buffer = this.#buffer.subarray(2 + n);
          if (!methods.includes(METHOD.NO_AUTH)) {
            step.send.push(Buffer.from([SOCKS_VERSION, METHOD.NO_ACCEPTABLE]));
            return this.#fail(step, 'client offers no method we accept (only "no authentication" on loopback)');
          }
          step.send.push(Buffer.from([SOCKS_VERSION, METHOD.NO_AUTH]));
          this.state = STATES.REQUEST;
          continue;
        }
        case STATES.REQUEST: {
          //  |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
          if (this.#buffer.length < 4) return step;
          if (this.#buffer[0] !== SOCKS_VERSION) return this.#fail(step, 'bad request version', REPLY.GENERAL_FAILURE);
          if (this.#buffer[1] !== COMMAND.CONNECT) return this.#fail(step, `command ${this.#buffer[1]} not supported`, REPLY.COMMAND_NOT_SUPPORTED);
          const addr = decodeAddress(this.#buffer, 3);
          if (!addr.ok && addr.need === 'more') return step;
          if (!addr.ok) return this.#fail(step, `address type ${addr.atyp} not supported`, REPLY.ADDRESS_TYPE_NOT_SUPPORTED);
          const rest = Buffer.from(this.#buffer.subarray(3 + addr.length));
          this.#buffer = Buffer.alloc(0);
          this.state = STATES.DONE;
          step.request = { host: addr.host, port: addr.port, rest };
          return step;
        }
        default:
          return this.#fail(step, `data in state ${this.state}`);
      }
    }
  }

  #fail(step: ServerStep, error: string, reply?: ReplyCode): ServerStep {
    this.state = STATES.FAILED;
    if (reply !== undefined) step.send.push(buildReply(reply));
    step.error = error;
    return step;
  }
}

/**
 *  +----+-----+-------+------+----------+----------+
 *  |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
 */
export function buildReply(reply: ReplyCode | number, bound: { host: string; port: number } = { host: '0.0.0.0', port: 0 }): Buffer {
  let addr: Buffer;
  try {
    addr = encodeAddress(bound.host, bound.port);
  } catch {
    addr = Buffer.from([ATYP.IPV4, 0, 0, 0, 0, 0, 0]);
  }
  return Buffer.concat([Buffer.from([SOCKS_VERSION, reply, 0x00]), addr]);
}
