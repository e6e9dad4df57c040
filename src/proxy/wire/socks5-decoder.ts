import { TsmpError } from '../../common/errors.js';
import type { ConnectFailure, Destination } from '../front/types.js';
import { classifyHost } from './host-syntax.js';
import { ipv4ToText, ipv6ToText } from './ip-bytes.js';
import {
  SOCKS5_AUTH_VERSION,
  SOCKS5_VERSION,
  Socks5AddressType,
  Socks5Method,
} from './socks5-constants.js';

/** The client's messages, server side, in the order RFC 1928 section 3 and 4 and RFC 1929 give. */
export type Socks5ClientMessage =
  | { type: 'greeting'; methods: number[] }
  | { type: 'auth'; username: string; password: string }
  | { type: 'request'; command: number; destination: Destination };

/**
 * A malformed message. `failure` is set when RFC 1928 has a reply for it (section 6: "address
 * type not supported"); otherwise the only answer is to close.
 */
export class Socks5DecodeError extends TsmpError {
  readonly failure: ConnectFailure | undefined;

  constructor(code: string, message: string, failure?: ConnectFailure) {
    super(code, message);
    this.failure = failure;
  }
}

/**
 * Decoder states. The server chooses the method between greeting and the next message, so the
 * decoder waits in METHOD_SELECTION until `selectMethod` says what comes next.
 */
export const SOCKS5_DECODER_STATES = {
  GREETING: 'greeting',
  METHOD_SELECTION: 'method-selection',
  AUTH: 'auth',
  REQUEST: 'request',
  DONE: 'done',
} as const;
export type Socks5DecoderState = (typeof SOCKS5_DECODER_STATES)[keyof typeof SOCKS5_DECODER_STATES];

/** Default bound on bytes held: the whole handshake plus one 64 KiB read of pipelined data. */
export const DEFAULT_SOCKS5_MAX_BUFFERED_BYTES = 128 * 1024;

/**
 * Incremental, I/O-free decoder of the client side of a SOCKS5 handshake. Feed it chunks as they
 * arrive; `read()` returns the next complete message or `null` when more bytes are needed.
 * After the request, `rest()` returns what the client pipelined behind it (tunnel payload).
 */
export class Socks5ServerDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  private current: Socks5DecoderState = SOCKS5_DECODER_STATES.GREETING;

  constructor(private readonly maxBufferedBytes = DEFAULT_SOCKS5_MAX_BUFFERED_BYTES) {}

  get state(): Socks5DecoderState {
    return this.current;
  }

  feed(chunk: Uint8Array): void {
    if (this.buffered.length + chunk.length > this.maxBufferedBytes) {
      throw new Socks5DecodeError('ERR_SOCKS5_BUFFER_LIMIT', `handshake buffer exceeds ${this.maxBufferedBytes} bytes`);
    }
    this.buffered = this.buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffered, chunk]);
  }

  /** Tells the decoder which METHOD the server answered with (RFC 1928 section 3). */
  selectMethod(method: number): void {
    if (this.current !== SOCKS5_DECODER_STATES.METHOD_SELECTION) {
      throw new Socks5DecodeError('ERR_SOCKS5_STATE', `selectMethod in state ${this.current}`);
    }
    if (method === Socks5Method.USERNAME_PASSWORD) this.current = SOCKS5_DECODER_STATES.AUTH;
    else if (method === Socks5Method.NO_AUTH) this.current = SOCKS5_DECODER_STATES.REQUEST;
    else this.current = SOCKS5_DECODER_STATES.DONE;
  }

  read(): Socks5ClientMessage | null {
    switch (this.current) {
      case SOCKS5_DECODER_STATES.GREETING:
        return this.readGreeting();
      case SOCKS5_DECODER_STATES.AUTH:
        return this.readAuth();
      case SOCKS5_DECODER_STATES.REQUEST:
        return this.readRequest();
      case SOCKS5_DECODER_STATES.METHOD_SELECTION:
      case SOCKS5_DECODER_STATES.DONE:
        return null;
    }
  }

  /** Bytes received after the last decoded message. */
  rest(): Buffer {
    return this.buffered;
  }

  private consume(length: number): Buffer {
    const message = this.buffered.subarray(0, length);
    this.buffered = this.buffered.subarray(length);
    return message;
  }

  /**
   * Greeting, RFC 1928 section 3. NMETHODS 0 is decoded (the front answers "no acceptable").
   *
   *     +----+----------+----------+
   *     |VER | NMETHODS | METHODS  |
   *     +----+----------+----------+
   *     | 1  |    1     | 1 to 255 |
   *     +----+----------+----------+
   */
  private readGreeting(): Socks5ClientMessage | null {
    const b = this.buffered;
    if (b.length < 1) return null;
    if (b[0] !== SOCKS5_VERSION) throw new Socks5DecodeError('ERR_SOCKS5_VERSION', `greeting version ${b[0]}`);
    if (b.length < 2) return null;
    const total = 2 + (b[1] ?? 0);
    if (b.length < total) return null;
    const methods = [...this.consume(total).subarray(2)];
    this.current = SOCKS5_DECODER_STATES.METHOD_SELECTION;
    return { type: 'greeting', methods };
  }

  /**
   * Username/password request, RFC 1929 section 2. Empty fields are decoded and then simply fail
   * authentication.
   *
   *     +----+------+----------+------+----------+
   *     |VER | ULEN |  UNAME   | PLEN |  PASSWD  |
   *     +----+------+----------+------+----------+
   *     | 1  |  1   | 1 to 255 |  1   | 1 to 255 |
   *     +----+------+----------+------+----------+
   */
  private readAuth(): Socks5ClientMessage | null {
    const b = this.buffered;
    if (b.length < 1) return null;
    if (b[0] !== SOCKS5_AUTH_VERSION) throw new Socks5DecodeError('ERR_SOCKS5_AUTH_VERSION', `auth version ${b[0]}`);
    if (b.length < 2) return null;
    const ulen = b[1] ?? 0;
    if (b.length < 3 + ulen) return null;
    const plen = b[2 + ulen] ?? 0;
    const total = 3 + ulen + plen;
    if (b.length < total) return null;
    const message = this.consume(total);
    this.current = SOCKS5_DECODER_STATES.REQUEST;
    return {
      type: 'auth',
      username: message.subarray(2, 2 + ulen).toString('utf8'),
      password: message.subarray(3 + ulen, total).toString('utf8'),
    };
  }

  /**
   * Request, RFC 1928 section 4. Any CMD is decoded (the front refuses all but CONNECT with REP
   * 0x07); RSV is not checked, as section 4 gives it no meaning. An unknown ATYP cannot be
   * skipped, its length being unknown, so it ends the handshake with REP 0x08.
   *
   *     +----+-----+-------+------+----------+----------+
   *     |VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
   *     +----+-----+-------+------+----------+----------+
   *     | 1  |  1  | X'00' |  1   | Variable |    2     |
   *     +----+-----+-------+------+----------+----------+
   */
  private readRequest(): Socks5ClientMessage | null {
    const b = this.buffered;
    if (b.length < 1) return null;
    if (b[0] !== SOCKS5_VERSION) throw new Socks5DecodeError('ERR_SOCKS5_VERSION', `request version ${b[0]}`);
    if (b.length < 5) return null;
    const atyp = b[3];
    let addressLength: number;
    let addressStart = 4;
    switch (atyp) {
      case Socks5AddressType.IPV4:
        addressLength = 4;
        break;
      case Socks5AddressType.IPV6:
        addressLength = 16;
        break;
      case Socks5AddressType.DOMAIN:
        addressLength = b[4] ?? 0;
        addressStart = 5;
        break;
      default:
        throw new Socks5DecodeError('ERR_SOCKS5_ADDRESS_TYPE', `address type ${atyp}`, 'address-type-not-supported');
    }
    const total = addressStart + addressLength + 2;
    if (b.length < total) return null;
    const message = this.consume(total);
    const address = message.subarray(addressStart, addressStart + addressLength);
    const port = message.readUInt16BE(addressStart + addressLength);
    this.current = SOCKS5_DECODER_STATES.DONE;
    return { type: 'request', command: message[1] ?? 0, destination: toDestination(atyp, address, port) };
  }
}

function toDestination(atyp: number, address: Buffer, port: number): Destination {
  if (atyp === Socks5AddressType.IPV4) return { host: ipv4ToText(address), port, addressType: 'ipv4' };
  if (atyp === Socks5AddressType.IPV6) return { host: ipv6ToText(address), port, addressType: 'ipv6' };
  const host = address.toString('latin1');
  // A domain may carry an IP literal (curl --socks5-hostname does so); it is still "named" as a domain.
  if (classifyHost(host) === null) {
    throw new Socks5DecodeError('ERR_SOCKS5_BAD_ADDRESS', 'destination is not a valid host name', 'host-unreachable');
  }
  return { host, port, addressType: 'domain' };
}
