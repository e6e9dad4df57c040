import type { Logger } from '../../common/logger.js';
import { z } from 'zod';
import { ConfigError } from '../../common/errors.js';
import type { DeviceAuthenticator } from '../auth/device-authenticator.js';
import { DEFAULT_HTTP_MAX_HEADER_BYTES } from '../wire/http-connect-decoder.js';
import { DEFAULT_SOCKS5_MAX_BUFFERED_BYTES } from '../wire/socks5-decoder.js';
import type { PendingConnect } from './types.js';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_PENDING_HANDSHAKES = 4096;
export const DEFAULT_CLOSE_LINGER_MS = 1_000;

/** User-facing settings of the front (the handshake half of the proxy's listening port). */
export interface FrontOptions {
  /**
   * Bound on the whole handshake, from accept to the hand-over. It is a deadline, not an idle
   * timeout, so a client trickling one byte at a time (slowloris) is still cut off.
   * @default 10000
   */
  handshakeTimeoutMs?: number;
  /**
   * Bound on an HTTP CONNECT request line plus headers; beyond it the answer is 431.
   * @default 8192
   */
  maxHttpHeaderBytes?: number;
  /**
   * Bound on the SOCKS5 handshake bytes held, payload pipelined behind the request included.
   * @default 131072
   */
  maxSocks5BufferBytes?: number;
  /**
   * Handshakes in progress at once. A connection past this bound is closed at once, so a flood
   * of idle connections costs a bounded amount of memory.
   * @default 4096
   */
  maxPendingHandshakes?: number;
  /**
   * After a failure reply, how long the client's input is read and dropped before the socket is
   * destroyed. Closing with unread input makes the kernel send a reset, which can destroy the
   * reply before the client reads it (RFC 9112 section 9.6, "tear-down").
   * @default 1000
   */
  closeLingerMs?: number;
}

/** Collaborators, kept apart from the options. */
export interface FrontComponents {
  /** Checks `DID:token`; the one identity interface of the proxy. */
  authenticator: DeviceAuthenticator;
  /**
   * Receives each authenticated CONNECT. It must call exactly one of `accept` or `reject`; a
   * throw or a rejected promise before either is answered with `reject('general')`.
   */
  onConnect: (pending: PendingConnect) => void | Promise<void>;
  logger?: Logger;
}

export type ResolvedFrontOptions = Required<FrontOptions>;

const positiveInt = z.number().int().positive();
const optionsSchema = z.strictObject({
  handshakeTimeoutMs: positiveInt.max(24 * 3600 * 1000).default(DEFAULT_HANDSHAKE_TIMEOUT_MS),
  maxHttpHeaderBytes: positiveInt.min(256).max(1024 * 1024).default(DEFAULT_HTTP_MAX_HEADER_BYTES),
  maxSocks5BufferBytes: positiveInt.min(1024).max(16 * 1024 * 1024).default(DEFAULT_SOCKS5_MAX_BUFFERED_BYTES),
  maxPendingHandshakes: positiveInt.default(DEFAULT_MAX_PENDING_HANDSHAKES),
  closeLingerMs: z.number().int().min(0).max(60_000).default(DEFAULT_CLOSE_LINGER_MS),
});

/** Names a user might reach for, and the option they meant. */
const RENAMED: Readonly<Record<string, keyof FrontOptions>> = {
  timeoutMs: 'handshakeTimeoutMs',
  timeout: 'handshakeTimeoutMs',
  handshakeTimeout: 'handshakeTimeoutMs',
  maxHeaderBytes: 'maxHttpHeaderBytes',
  maxHeaderSize: 'maxHttpHeaderBytes',
  maxHandshakes: 'maxPendingHandshakes',
};

/** Applies defaults and checks every option; throws `ConfigError` naming the bad ones. */
export function resolveFrontOptions(options: FrontOptions = {}): ResolvedFrontOptions {
  for (const key of Object.keys(options)) {
    const meant = RENAMED[key];
    if (meant) throw new ConfigError(`front option "${key}" is called "${meant}"`);
  }
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(`invalid front options:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
