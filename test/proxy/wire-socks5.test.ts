import { describe, expect, it } from 'vitest';
import {
  buildAuthRequest,
  buildAuthStatus,
  buildGreeting,
  buildMethodSelection,
  buildReply,
  buildRequest,
} from '../../src/proxy/wire/socks5-builders.js';
import { decodeSocks5Reply } from '../../src/proxy/wire/socks5-client-decoder.js';
import { Socks5Command, Socks5Method, Socks5Reply } from '../../src/proxy/wire/socks5-constants.js';
import {
  SOCKS5_DECODER_STATES,
  Socks5DecodeError,
  Socks5ServerDecoder,
  type Socks5ClientMessage,
} from '../../src/proxy/wire/socks5-decoder.js';
import { ipv6ToBytes, ipv6ToText } from '../../src/proxy/wire/ip-bytes.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Feeds `bytes` in the given pieces, decoding after each, and selects user/pass after a greeting. */
function decodeAll(pieces: Buffer[], decoder = new Socks5ServerDecoder()): { messages: Socks5ClientMessage[]; rest: Buffer } {
  const messages: Socks5ClientMessage[] = [];
  for (const piece of pieces) {
    decoder.feed(piece);
    for (let m = decoder.read(); m !== null; m = decoder.read()) {
      messages.push(m);
      if (m.type === 'greeting') decoder.selectMethod(Socks5Method.USERNAME_PASSWORD);
    }
  }
  return { messages, rest: decoder.rest() };
}

/** Every split of `bytes` into two pieces, plus byte by byte, plus whole. */
function splits(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return out;
}

// greeting (user/pass, no-auth) | auth "phone.bob@example.org" / "s3cret" | CONNECT ...
const GREETING = hex('05 02 02 00');
const AUTH = Buffer.concat([hex('01 15'), Buffer.from('phone.bob@example.org'), hex('06'), Buffer.from('s3cret')]);
const CASES = [
  {
    name: 'IPv4',
    request: hex('05 01 00 01 7f000001 1f90'),
    destination: { host: '127.0.0.1', port: 8080, addressType: 'ipv4' },
  },
  {
    name: 'IPv6',
    request: hex('05 01 00 04 20010db8000000000000000000000001 0050'),
    destination: { host: '2001:db8::1', port: 80, addressType: 'ipv6' },
  },
  {
    name: 'domain',
    request: Buffer.concat([hex('05 01 00 03 0b'), Buffer.from('example.org'), hex('01bb')]),
    destination: { host: 'example.org', port: 443, addressType: 'domain' },
  },
] as const;

describe('SOCKS5 server decoder', () => {
  for (const c of CASES) {
    it(`decodes greeting, auth and a ${c.name} CONNECT with pipelined payload, at every split`, () => {
      const payload = hex('deadbeef');
      const all = Buffer.concat([GREETING, AUTH, c.request, payload]);
      for (const pieces of splits(all)) {
        const { messages, rest } = decodeAll(pieces);
        expect(messages).toEqual([
          { type: 'greeting', methods: [0x02, 0x00] },
          { type: 'auth', username: 'phone.bob@example.org', password: 's3cret' },
          { type: 'request', command: Socks5Command.CONNECT, destination: c.destination },
        ]);
        expect(rest.toString('hex')).toBe('deadbeef');
      }
    });
  }

  it('returns null on every proper prefix and does not advance', () => {
    const all = Buffer.concat([GREETING]);
    for (let i = 0; i < all.length; i++) {
      const d = new Socks5ServerDecoder();
      d.feed(all.subarray(0, i));
      expect(d.read()).toBeNull();
      expect(d.state).toBe(SOCKS5_DECODER_STATES.GREETING);
    }
  });

  it('decodes BIND and UDP ASSOCIATE as requests for the front to refuse', () => {
    for (const cmd of [Socks5Command.BIND, Socks5Command.UDP_ASSOCIATE, 0x09]) {
      const request = hex(`05 ${cmd.toString(16).padStart(2, '0')} 00 01 0a000001 0016`);
      const { messages } = decodeAll([GREETING, AUTH, request]);
      expect(messages[2]).toMatchObject({ type: 'request', command: cmd });
    }
  });

  it('goes straight to the request after NO AUTH, and to done after NO ACCEPTABLE', () => {
    const d = new Socks5ServerDecoder();
    d.feed(hex('05 01 00'));
    expect(d.read()).toEqual({ type: 'greeting', methods: [0] });
    d.selectMethod(Socks5Method.NO_AUTH);
    expect(d.state).toBe('request');
    const e = new Socks5ServerDecoder();
    e.feed(hex('05 01 00'));
    e.read();
    e.selectMethod(Socks5Method.NO_ACCEPTABLE);
    expect(e.state).toBe('done');
    expect(e.read()).toBeNull();
  });

  const errorCases: { name: string; bytes: Buffer; code: string; failure?: string }[] = [
    { name: 'SOCKS4 greeting', bytes: hex('04 01 0050 7f000001 00'), code: 'ERR_SOCKS5_VERSION' },
    { name: 'auth version 5', bytes: Buffer.concat([GREETING, hex('05 01 61 01 62')]), code: 'ERR_SOCKS5_AUTH_VERSION' },
    {
      name: 'request version 4',
      bytes: Buffer.concat([GREETING, AUTH, hex('04 01 00 01 7f000001 0050')]),
      code: 'ERR_SOCKS5_VERSION',
    },
    {
      name: 'unknown address type',
      bytes: Buffer.concat([GREETING, AUTH, hex('05 01 00 02 7f000001 0050')]),
      code: 'ERR_SOCKS5_ADDRESS_TYPE',
      failure: 'address-type-not-supported',
    },
    {
      name: 'domain with a space',
      bytes: Buffer.concat([GREETING, AUTH, hex('05 01 00 03 03 612062 0050')]),
      code: 'ERR_SOCKS5_BAD_ADDRESS',
      failure: 'host-unreachable',
    },
    {
      name: 'empty domain',
      bytes: Buffer.concat([GREETING, AUTH, hex('05 01 00 03 00 0050')]),
      code: 'ERR_SOCKS5_BAD_ADDRESS',
    },
  ];
  for (const c of errorCases) {
    it(`rejects ${c.name} with ${c.code}, at every split`, () => {
      for (const pieces of splits(c.bytes)) {
        let caught: unknown;
        try {
          decodeAll(pieces);
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(Socks5DecodeError);
        expect((caught as Socks5DecodeError).code).toBe(c.code);
        if (c.failure) expect((caught as Socks5DecodeError).failure).toBe(c.failure);
      }
    });
  }

  it('enforces its buffer bound', () => {
    const d = new Socks5ServerDecoder(1024);
    d.feed(Buffer.alloc(1024, 5));
    expect(() => d.feed(Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'ERR_SOCKS5_BUFFER_LIMIT' }));
  });

  it('refuses selectMethod outside method selection', () => {
    expect(() => new Socks5ServerDecoder().selectMethod(2)).toThrow(Socks5DecodeError);
  });
});

describe('SOCKS5 builders', () => {
  it('build the server messages byte for byte', () => {
    expect(buildMethodSelection(Socks5Method.USERNAME_PASSWORD).toString('hex')).toBe('0502');
    expect(buildMethodSelection(Socks5Method.NO_ACCEPTABLE).toString('hex')).toBe('05ff');
    expect(buildAuthStatus(0x00).toString('hex')).toBe('0100');
    expect(buildAuthStatus(0x01).toString('hex')).toBe('0101');
    expect(buildReply(Socks5Reply.SUCCEEDED, { address: '10.1.2.3', port: 4321 }).toString('hex')).toBe('050000010a01020310e1');
    expect(buildReply(Socks5Reply.SUCCEEDED, { address: '::1', port: 80 }).toString('hex')).toBe(
      '05000004000000000000000000000000000000010050',
    );
    expect(buildReply(Socks5Reply.COMMAND_NOT_SUPPORTED).toString('hex')).toBe('05070001000000000000');
  });

  it('build the client messages that the decoder reads back', () => {
    const bytes = Buffer.concat([
      buildGreeting([Socks5Method.USERNAME_PASSWORD]),
      buildAuthRequest('pc.bob@example.org', 'tök'),
      buildRequest(Socks5Command.CONNECT, { host: 'fe80::1:2', port: 65535, addressType: 'ipv6' }),
    ]);
    expect(decodeAll([bytes]).messages).toEqual([
      { type: 'greeting', methods: [2] },
      { type: 'auth', username: 'pc.bob@example.org', password: 'tök' },
      { type: 'request', command: 1, destination: { host: 'fe80::1:2', port: 65535, addressType: 'ipv6' } },
    ]);
  });
});

describe('SOCKS5 reply decoder (client side)', () => {
  it('decodes IPv4, IPv6 and domain replies at every split', () => {
    const replies = [
      { bytes: hex('050000010a01020310e1'), rep: 0, bound: { address: '10.1.2.3', port: 4321 } },
      { bytes: hex('05050004 00000000000000000000000000000001 0050'), rep: 5, bound: { address: '::1', port: 80 } },
      { bytes: Buffer.concat([hex('0500000303'), Buffer.from('abc'), hex('0001')]), rep: 0, bound: { address: 'abc', port: 1 } },
    ];
    for (const r of replies) {
      for (let i = 0; i < r.bytes.length; i++) expect(decodeSocks5Reply(r.bytes.subarray(0, i))).toBeNull();
      expect(decodeSocks5Reply(Buffer.concat([r.bytes, hex('ff')]))).toEqual({ rep: r.rep, bound: r.bound, length: r.bytes.length });
    }
  });
});

describe('IPv6 text and bytes', () => {
  it('round-trip with RFC 5952 compression', () => {
    const cases: [string, string][] = [
      ['::', '::'],
      ['::1', '::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['fe80::', 'fe80::'],
    ];
    for (const [input, canonical] of cases) {
      expect(ipv6ToText(ipv6ToBytes(input))).toBe(canonical);
    }
    expect(ipv6ToBytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
  });
});
