import { describe, expect, it } from 'vitest';
import {
  HttpConnectDecodeError,
  HttpConnectDecoder,
  parseAuthority,
  parseBasic,
  type HttpConnectRequest,
} from '../../src/proxy/wire/http-connect-decoder.js';
import {
  buildConnectEstablished,
  buildConnectFailure,
  buildHttpError,
  buildProxyAuthRequired,
} from '../../src/proxy/wire/http-connect-responses.js';

const basic = (user: string, pass: string): string => Buffer.from(`${user}:${pass}`).toString('base64');

function decodeIn(pieces: Buffer[], max?: number): { request: HttpConnectRequest | null; rest: Buffer } {
  const d = new HttpConnectDecoder(max);
  let request: HttpConnectRequest | null = null;
  for (const p of pieces) {
    d.feed(p);
    request ??= d.read();
  }
  return { request, rest: d.rest() };
}

function splits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return out;
}

function errorOf(fn: () => unknown): HttpConnectDecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpConnectDecodeError) return err;
    throw err;
  }
  throw new Error('expected an HttpConnectDecodeError');
}

describe('HTTP CONNECT decoder', () => {
  const cases = [
    {
      name: 'domain, CRLF',
      head: `CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\nProxy-Authorization: Basic ${basic('phone.bob@example.org', 't0k:en')}\r\n\r\n`,
      destination: { host: 'example.org', port: 443, addressType: 'domain' },
      credentials: { username: 'phone.bob@example.org', password: 't0k:en' },
    },
    {
      name: 'IPv6 in brackets, bare LF, lower-case scheme',
      head: `CONNECT [2001:db8::1]:8443 HTTP/1.0\nproxy-authorization:   basic ${basic('pc.bob@example.org', 'x')}  \n\n`,
      destination: { host: '2001:db8::1', port: 8443, addressType: 'ipv6' },
      credentials: { username: 'pc.bob@example.org', password: 'x' },
    },
    {
      name: 'IPv4, no credentials',
      head: 'CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n',
      destination: { host: '127.0.0.1', port: 1, addressType: 'ipv4' },
      credentials: null,
    },
  ] as const;

  for (const c of cases) {
    it(`decodes ${c.name} with pipelined payload, at every split`, () => {
      const bytes = Buffer.concat([Buffer.from(c.head, 'latin1'), Buffer.from('\x16\x03\x01payload', 'latin1')]);
      for (const pieces of splits(bytes)) {
        const { request, rest } = decodeIn(pieces);
        expect(request?.destination).toEqual(c.destination);
        expect(request?.credentials).toEqual(c.credentials);
        expect(rest.toString('latin1')).toBe('\x16\x03\x01payload');
      }
    });
  }

  it('returns null until the blank line', () => {
    const head = 'CONNECT a.b:1 HTTP/1.1\r\nX: y\r\n\r\n';
    for (let i = 0; i < head.length; i++) {
      const d = new HttpConnectDecoder();
      d.feed(Buffer.from(head.slice(0, i)));
      expect(d.read()).toBeNull();
    }
  });

  it('keeps repeated headers in order', () => {
    const { request } = decodeIn([Buffer.from('CONNECT a.b:1 HTTP/1.1\r\nVia: 1\r\nvia: 2\r\n\r\n')]);
    expect(request?.headers.get('via')).toEqual(['1', '2']);
  });

  it('answers 405 to other methods', () => {
    for (const method of ['GET', 'POST', 'connect']) {
      const err = errorOf(() => decodeIn([Buffer.from(`${method} http://a.b/ HTTP/1.1\r\n\r\n`)]));
      expect(err.status).toBe(405);
    }
  });

  const malformed = [
    'CONNECT example.org HTTP/1.1', // no port
    'CONNECT example.org:0 HTTP/1.1',
    'CONNECT example.org:65536 HTTP/1.1',
    'CONNECT 2001:db8::1:443 HTTP/1.1', // IPv6 without brackets
    'CONNECT [example.org]:443 HTTP/1.1',
    'CONNECT ex ample.org:443 HTTP/1.1',
    'CONNECT exa/mple.org:443 HTTP/1.1',
    'CONNECT example.org:443 HTTP/2.0',
    'CONNECT example.org:443 HTTP/1.1\r\n folded: header',
    'CONNECT example.org:443 HTTP/1.1\r\nName : value',
    `CONNECT example.org:443 HTTP/1.1\r\nProxy-Authorization: Basic ${basic('a', 'b')}\r\nProxy-Authorization: Basic ${basic('c', 'd')}`,
    '\x00\x01\x02',
  ];
  for (const line of malformed) {
    it(`answers 400 to ${JSON.stringify(line.slice(0, 50))}`, () => {
      expect(errorOf(() => decodeIn([Buffer.from(`${line}\r\n\r\n`, 'latin1')])).status).toBe(400);
    });
  }

  it('accepts a head of exactly the limit and answers 431 one byte past it, at every split', () => {
    const limit = 512;
    const make = (size: number): Buffer => {
      const start = 'CONNECT a.b:1 HTTP/1.1\r\nX-Pad: ';
      return Buffer.from(start + 'p'.repeat(size - start.length - 4) + '\r\n\r\n');
    };
    expect(make(limit).length).toBe(limit);
    for (const pieces of splits(make(limit))) expect(decodeIn(pieces, limit).request).not.toBeNull();
    for (const pieces of splits(make(limit + 1))) expect(errorOf(() => decodeIn(pieces, limit)).status).toBe(431);
  });

  it('answers 431 to an endless head without waiting for its end', () => {
    const d = new HttpConnectDecoder(1024);
    d.feed(Buffer.from('CONNECT a.b:1 HTTP/1.1\r\n'));
    const filler = Buffer.from('X-A: b\r\n');
    const err = errorOf(() => {
      for (let i = 0; i < 200; i++) {
        d.feed(filler);
        d.read();
      }
    });
    expect(err.status).toBe(431);
    expect(err.code).toBe('ERR_HTTP_HEADERS_TOO_LARGE');
  });
});

describe('HTTP CONNECT helpers', () => {
  it('parseAuthority classifies hosts', () => {
    expect(parseAuthority('[::1]:80')).toEqual({ host: '::1', port: 80, addressType: 'ipv6' });
    expect(parseAuthority('10.0.0.1:22')).toEqual({ host: '10.0.0.1', port: 22, addressType: 'ipv4' });
    expect(parseAuthority('abc.ticket.tsmp.invalid:1')).toEqual({ host: 'abc.ticket.tsmp.invalid', port: 1, addressType: 'domain' });
  });

  it('parseBasic splits at the first colon and ignores other schemes', () => {
    expect(parseBasic(`Basic ${basic('u', 'p:q')}`)).toEqual({ username: 'u', password: 'p:q' });
    expect(parseBasic('Bearer abc')).toBeNull();
    expect(parseBasic(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeNull();
    expect(parseBasic('Basic !!!')).toBeNull();
    expect(parseBasic(undefined)).toBeNull();
  });
});

describe('HTTP CONNECT responses', () => {
  it('are exact', () => {
    expect(buildConnectEstablished().toString()).toBe('HTTP/1.1 200 Connection Established\r\n\r\n');
    expect(buildProxyAuthRequired().toString()).toBe(
      'HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\nContent-Length: 0\r\nProxy-Authenticate: Basic realm="tsmp"\r\n\r\n',
    );
    expect(buildHttpError(405).toString()).toBe(
      'HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\nAllow: CONNECT\r\n\r\n',
    );
    expect(buildHttpError(431).toString()).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(buildConnectFailure('timeout').toString()).toBe(
      'HTTP/1.1 504 Gateway Timeout\r\nProxy-Status: tsmp; error=connection_timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
    expect(buildConnectFailure('dns').toString()).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\nProxy-Status: tsmp; error=dns_error\r\n/);
    expect(buildConnectFailure('unavailable').toString()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
  });
});
