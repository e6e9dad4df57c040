import { TsmpError } from '../../common/errors.js';
import type { Destination } from '../front/types.js';
import { classifyHost } from './host-syntax.js';

/** Default bound on the request line plus headers, terminator included. Beyond it: 431. */
export const DEFAULT_HTTP_MAX_HEADER_BYTES = 8 * 1024;

export interface HttpConnectRequest {
  destination: Destination;
  /** `host:port` exactly as the request line carried it. */
  target: string;
  httpVersion: '1.0' | '1.1';
  /** Header names lowercased; a repeated header keeps every value in order. */
  headers: Map<string, string[]>;
  /** From `Proxy-Authorization: Basic`; `null` when absent or not Basic. */
  credentials: { username: string; password: string } | null;
}

/** A request the proxy cannot serve, with the status to answer (RFC 9110 section 15). */
export class HttpConnectDecodeError extends TsmpError {
  constructor(
    code: string,
    message: string,
    readonly status: 400 | 405 | 431,
  ) {
    super(code, message);
  }
}

const STATES = { HEAD: 'head', DONE: 'done' } as const;
type State = (typeof STATES)[keyof typeof STATES];

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\s]+) HTTP\/(1\.[01])$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/**
 * Incremental, I/O-free decoder of one HTTP/1.x CONNECT request head (RFC 9112 sections 2-5,
 * RFC 9110 section 9.3.6). Bytes after the blank line are tunnel payload and stay in `rest()`.
 */
export class HttpConnectDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  private state: State = STATES.HEAD;
  /** Where to resume the search for the blank line, so a byte-by-byte client costs O(n). */
  private scanFrom = 0;

  constructor(private readonly maxHeaderBytes = DEFAULT_HTTP_MAX_HEADER_BYTES) {}

  feed(chunk: Uint8Array): void {
    if (this.state === STATES.HEAD && this.buffered.length > this.maxHeaderBytes) {
      throw new HttpConnectDecodeError('ERR_HTTP_HEADERS_TOO_LARGE', 'request head too large', 431);
    }
    this.buffered = this.buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffered, chunk]);
  }

  read(): HttpConnectRequest | null {
    switch (this.state) {
      case STATES.DONE:
        return null;
      case STATES.HEAD: {
        const end = this.findHeadEnd();
        if (end === null) {
          if (this.buffered.length > this.maxHeaderBytes) {
            throw new HttpConnectDecodeError('ERR_HTTP_HEADERS_TOO_LARGE', 'request head too large', 431);
          }
          return null;
        }
        if (end.headEnd > this.maxHeaderBytes) {
          throw new HttpConnectDecodeError('ERR_HTTP_HEADERS_TOO_LARGE', 'request head too large', 431);
        }
        const head = this.buffered.subarray(0, end.textEnd).toString('latin1');
        this.buffered = this.buffered.subarray(end.headEnd);
        this.state = STATES.DONE;
        return parseHead(head);
      }
    }
  }

  rest(): Buffer {
    return this.buffered;
  }

  /** Finds the empty line ending the head: CRLF CRLF, or bare LF LF (RFC 9112 section 2.2). */
  private findHeadEnd(): { textEnd: number; headEnd: number } | null {
    const b = this.buffered;
    for (let i = this.scanFrom; i < b.length; i++) {
      if (b[i] !== 0x0a) continue;
      const textEnd = b[i - 1] === 0x0d ? i - 1 : i;
      if (b[i + 1] === 0x0a) return { textEnd, headEnd: i + 2 };
      if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return { textEnd, headEnd: i + 3 };
      if (i + 2 >= b.length) {
        this.scanFrom = i;
        return null;
      }
    }
    this.scanFrom = b.length;
    return null;
  }
}

function bad(message: string): HttpConnectDecodeError {
  return new HttpConnectDecodeError('ERR_HTTP_BAD_REQUEST', message, 400);
}

function parseHead(head: string): HttpConnectRequest {
  // Leading empty lines before a request line are ignored (RFC 9112 section 2.2).
  const lines = head.replace(/^(\r?\n)+/, '').split(/\r?\n/);
  const requestLine = REQUEST_LINE.exec(lines[0] ?? '');
  if (!requestLine) throw bad('malformed request line');
  const [, method, target = '', version] = requestLine;
  if (method !== 'CONNECT') {
    throw new HttpConnectDecodeError('ERR_HTTP_METHOD', `method ${method} is not CONNECT`, 405);
  }
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    // obs-fold and whitespace before the colon are rejected (RFC 9112 sections 5.1 and 5.2).
    const m = HEADER_LINE.exec(line);
    if (!m) throw bad('malformed header line');
    const name = (m[1] ?? '').toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(m[2] ?? '');
    headers.set(name, values);
  }
  const authorization = headers.get('proxy-authorization') ?? [];
  if (authorization.length > 1) throw bad('more than one Proxy-Authorization header');
  return {
    destination: parseAuthority(target),
    target,
    httpVersion: version === '1.0' ? '1.0' : '1.1',
    headers,
    credentials: parseBasic(authorization[0]),
  };
}

/** authority-form `host:port` or `[v6]:port`; the port is mandatory (RFC 9110 section 9.3.6). */
export function parseAuthority(target: string): Destination {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target);
  if (!m) throw bad('CONNECT target is not host:port');
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw bad('CONNECT port out of range');
  const host = m[1] ?? m[2] ?? '';
  const kind = classifyHost(host);
  if (kind === null || (m[1] !== undefined && kind !== 'ipv6') || (m[1] === undefined && kind === 'ipv6')) {
    throw bad('CONNECT host is not valid');
  }
  return { host, port, addressType: kind };
}

/** `Basic base64(user-id ":" password)`, RFC 7617 section 2; the user-id holds no colon. */
export function parseBasic(value: string | undefined): { username: string; password: string } | null {
  if (value === undefined) return null;
  const m = /^basic[ ]+([A-Za-z0-9+/]+={0,2})$/i.exec(value);
  if (!m) return null;
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
