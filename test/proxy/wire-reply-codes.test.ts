import { describe, expect, it } from 'vitest';
import type { ConnectFailure } from '../../src/proxy/front/types.js';
import {
  CONNECT_FAILURES,
  classifyDialError,
  httpStatusFor,
  isConnectFailure,
  socks5ReplyFor,
} from '../../src/proxy/wire/reply-codes.js';

const systemError = (code: string, message = 'whatever text'): Error => Object.assign(new Error(message), { code });

describe('reply codes', () => {
  it('map every failure to a SOCKS5 REP and an HTTP status', () => {
    const expected: Record<ConnectFailure, [number, number]> = {
      general: [0x01, 502],
      'not-allowed': [0x02, 403],
      'network-unreachable': [0x03, 502],
      'host-unreachable': [0x04, 502],
      refused: [0x05, 502],
      'ttl-expired': [0x06, 504],
      timeout: [0x06, 504],
      dns: [0x04, 502],
      'command-not-supported': [0x07, 405],
      'address-type-not-supported': [0x08, 400],
      unavailable: [0x01, 503],
    };
    expect(new Set(CONNECT_FAILURES)).toEqual(new Set(Object.keys(expected)));
    for (const [failure, [rep, status]] of Object.entries(expected) as [ConnectFailure, [number, number]][]) {
      expect([socks5ReplyFor(failure), httpStatusFor(failure)]).toEqual([rep, status]);
    }
    expect(isConnectFailure('refused')).toBe(true);
    expect(isConnectFailure('toString')).toBe(false);
  });

  it('classify system errors by code, never by message', () => {
    const cases: [string, ConnectFailure][] = [
      ['ECONNREFUSED', 'refused'],
      ['ENETUNREACH', 'network-unreachable'],
      ['EHOSTUNREACH', 'host-unreachable'],
      ['ENOTFOUND', 'dns'],
      ['EAI_AGAIN', 'dns'],
      ['ETIMEDOUT', 'timeout'],
      ['ERR_DIAL_TIMEOUT', 'timeout'],
      ['EACCES', 'not-allowed'],
      ['ECONNRESET', 'general'],
    ];
    for (const [code, failure] of cases) expect(classifyDialError(systemError(code, 'ECONNREFUSED'))).toBe(failure);
    expect(classifyDialError(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe('general');
    expect(classifyDialError('ECONNREFUSED')).toBe('general');
    expect(classifyDialError(null)).toBe('general');
  });

  it('keep the failure an error already carries, and look inside AggregateError', () => {
    expect(classifyDialError(Object.assign(new Error('x'), { failure: 'dns' }))).toBe('dns');
    const aggregate = new AggregateError([systemError('ECONNRESET'), systemError('ECONNREFUSED')]);
    expect(classifyDialError(aggregate)).toBe('refused');
  });
});
