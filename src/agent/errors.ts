import { TsmpError } from '../common/errors.js';

/** A handler spec (`file:PATH`, `exec:CMD`, ...) that cannot be parsed or is not configured. */
export class HandlerSpecError extends TsmpError {
  constructor(message: string) {
    super('ERR_HANDLER_SPEC', message);
  }
}

/** A handler could not deliver the resumed stream (command failed, file not writable, ...). */
export class HandlerFailedError extends TsmpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_HANDLER_FAILED', message, options);
  }
}

/** The SOCKS5 server (the proxy) refused or broke the handshake; `reply` is RFC 1928's REP. */
export class SocksClientError extends TsmpError {
  readonly reply: number | undefined;
  constructor(code: string, message: string, reply?: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.reply = reply;
  }
}

/** A malformed request on the agent's local SOCKS endpoint. */
export class SocksEndpointError extends TsmpError {
  constructor(message: string) {
    super('ERR_SOCKS_ENDPOINT', message);
  }
}

/** The state directory (`--home`) is unusable: bad permissions, malformed file, no credentials. */
export class AgentStateError extends TsmpError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A migration snapshot that is not small JSON (M-TCP's snapshots are bounded). */
export class SnapshotError extends TsmpError {
  constructor(message: string) {
    super('ERR_SNAPSHOT', message);
  }
}
