import { SocksClientError } from '../errors.js';
import { decodeAddress, encodeAddress } from './socks5-address.js';
import { COMMAND, METHOD, REPLY, SOCKS_VERSION, USERPASS_VERSION, replyText } from './socks5-codes.js';

export const STATES = {
  /** Greeting sent; waiting for the server's method choice (RFC 1928 section 3). */
  METHOD: 'method',
  /** Username/password sent; waiting for its status (RFC 1929 section 2). */
  AUTH: 'auth',
  /** CONNECT sent; waiting for the reply (RFC 1928 section 6). */
  REPLY: 'reply',
  DONE: 'done',
  FAILED: 'failed',
} as const;
export type ClientState = (typeof STATES)[keyof typeof STATES];

export interface Socks5ClientOptions {
  host: string;
  port: number;
  /** RFC 1929 credentials: for tsmp, the device's DID and token. Omit for no authentication. */
  username?: string;
  password?: string;
  /**
   * Optimistic ("pipelined") handshake: `start()` returns the greeting, the RFC 1929
   * credentials and the CONNECT request in one write, as Tor's clients do, so the handshake
   * costs one round trip instead of three. Only with credentials, and only towards a server
   * known to read pipelined messages (the tsmp proxy does: it offers username/password only and
   * keeps bytes behind a message for the next one). A server that chooses another method fails
   * the handshake as before. @default false
   */
  pipeline?: boolean;
}

export type ClientStep =
  | { kind: 'send'; data: Buffer }
  | { kind: 'wait' }
  | { kind: 'done'; bound: { host: string; port: number }; rest: Buffer };

/** Longest a server reply can be: VER REP RSV ATYP LEN NAME(255) PORT(2). */
const MAX_REPLY = 4 + 1 + 255 + 2;

/**
 * The client side of a SOCKS5 CONNECT with optional username/password authentication, as an
 * explicit state machine. Pure: `start()` gives the first bytes to send, `feed()` takes what the
 * server sent (any split) and says what to send next; it never touches a socket.
 */
export class Socks5ClientHandshake {
  state: ClientState = STATES.METHOD;
  readonly #options: Socks5ClientOptions;
  #buffer: Buffer = Buffer.alloc(0);

  constructor(options: Socks5ClientOptions) {
    this.#options = options;
    if (options.username !== undefined) {
      const u = Buffer.byteLength(options.username);
      const p = Buffer.byteLength(options.password ?? '');
      if (u < 1 || u > 255 || p < 1 || p > 255) throw new SocksClientError('ERR_SOCKS_CREDENTIALS', 'SOCKS5 username and password must be 1 to 255 bytes (RFC 1929)');
    }
  }

  /**
   *  +----+----------+----------+
   *  |VER | NMETHODS | METHODS  |
   *  +----+----------+----------+
   *  | 1  |    1     | 1 to 255 |
   */
  start(): Buffer {
    const method = this.#options.username === undefined ? METHOD.NO_AUTH : METHOD.USERNAME_PASSWORD;
    const greeting = Buffer.from([SOCKS_VERSION, 1, method]);
    if (!this.#pipelined) return greeting;
    return Buffer.concat([greeting, this.#authRequest(), this.#connectRequest()]);
  }

  /** True when the credentials and the request already went out with the greeting. */
  get #pipelined(): boolean {
    return this.#options.pipeline === true && this.#options.username !== undefined;
  }

  feed(chunk: Buffer): ClientStep {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    // Pipelined, the server's three replies may come in one read: step through all of them.
    for (;;) {
      const before = this.state;
      const step = this.#step();
      if (step.kind !== 'wait' || this.state === before) return step;
    }
  }

  #step(): ClientStep {
    switch (this.state) {
      case STATES.METHOD: {
        //  +----+--------+
        //  |VER | METHOD |
        if (this.#buffer.length < 2) return this.#wait();
        const [ver, method] = this.#buffer;
        if (ver !== SOCKS_VERSION) return this.#fail('ERR_SOCKS_PROTOCOL', `server speaks SOCKS version ${ver}, not 5`);
        this.#consume(2);
        if (method === METHOD.NO_ACCEPTABLE) return this.#fail('ERR_SOCKS_NO_METHOD', 'the SOCKS server accepts none of our authentication methods');
        if (method === METHOD.USERNAME_PASSWORD && this.#options.username !== undefined) {
          this.state = STATES.AUTH;
          return this.#pipelined ? { kind: 'wait' } : { kind: 'send', data: this.#authRequest() };
        }
        if (method === METHOD.NO_AUTH && this.#options.username === undefined) {
          this.state = STATES.REPLY;
          return { kind: 'send', data: this.#connectRequest() };
        }
        return this.#fail('ERR_SOCKS_PROTOCOL', `server chose method 0x${method!.toString(16)}, which we did not offer`);
      }
      case STATES.AUTH: {
        //  +----+--------+
        //  |VER | STATUS |
        if (this.#buffer.length < 2) return this.#wait();
        const [ver, status] = this.#buffer;
        if (ver !== USERPASS_VERSION) return this.#fail('ERR_SOCKS_PROTOCOL', `bad username/password reply version ${ver}`);
        this.#consume(2);
        if (status !== 0) return this.#fail('ERR_SOCKS_AUTH_FAILED', 'the proxy rejected the device credentials');
        this.state = STATES.REPLY;
        return this.#pipelined ? { kind: 'wait' } : { kind: 'send', data: this.#connectRequest() };
      }
      case STATES.REPLY: {
        //  +----+-----+-------+------+----------+----------+
        //  |VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
        if (this.#buffer.length < 4) return this.#wait();
        const [ver, rep] = this.#buffer;
        if (ver !== SOCKS_VERSION) return this.#fail('ERR_SOCKS_PROTOCOL', `bad reply version ${ver}`);
        if (rep !== REPLY.SUCCEEDED) {
          const error = new SocksClientError('ERR_SOCKS_CONNECT', `the proxy could not connect to ${this.#target()}: ${replyText(rep!)}`, rep);
          this.state = STATES.FAILED;
          throw error;
        }
        const addr = decodeAddress(this.#buffer, 3);
        if (!addr.ok && addr.need === 'more') return this.#wait();
        if (!addr.ok) return this.#fail('ERR_SOCKS_PROTOCOL', `bad address type ${addr.atyp} in reply`);
        const rest = this.#buffer.subarray(3 + addr.length);
        this.#buffer = Buffer.alloc(0);
        this.state = STATES.DONE;
        return { kind: 'done', bound: { host: addr.host, port: addr.port }, rest: Buffer.from(rest) };
      }
      default:
        return this.#fail('ERR_SOCKS_PROTOCOL', `data in state ${this.state}`);
    }
  }

  /**
   *  +----+------+----------+------+----------+
   *  |VER | ULEN |  UNAME   | PLEN |  PASSWD  |
   */
  #authRequest(): Buffer {
    const u = Buffer.from(this.#options.username ?? '', 'utf8');
    const p = Buffer.from(this.#options.password ?? '', 'utf8');
    return Buffer.concat([Buffer.from([USERPASS_VERSION, u.length]), u, Buffer.from([p.length]), p]);
  }

  /**
   *  +----+-----+-------+------+----------+----------+
   *  |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
   */
  #connectRequest(): Buffer {
    return Buffer.concat([Buffer.from([SOCKS_VERSION, COMMAND.CONNECT, 0x00]), encodeAddress(this.#options.host, this.#options.port)]);
  }

  /** Tunnel bytes may follow a reply in the same read, so the bound applies only while incomplete. */
  #wait(): ClientStep {
    if (this.#buffer.length > MAX_REPLY) return this.#fail('ERR_SOCKS_PROTOCOL', 'oversized reply from the SOCKS server');
    return { kind: 'wait' };
  }

  #consume(n: number): void {
    this.#buffer = this.#buffer.subarray(n);
  }

  #target(): string {
    return `${this.#options.host}:${this.#options.port}`;
  }

  #fail(code: string, message: string): never {
    this.state = STATES.FAILED;
    throw new SocksClientError(code, message);
  }
}
