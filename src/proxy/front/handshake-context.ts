import type { Logger } from '../../common/logger.js';
import type { DeviceAuthenticator } from '../auth/device-authenticator.js';
import type { ResolvedFrontOptions } from './front-options.js';
import type { HandshakeConnection } from './handshake-connection.js';
import type { PendingConnect } from './types.js';

/** What a protocol handshake needs from the front that runs it. */
export interface HandshakeContext {
  connection: HandshakeConnection;
  authenticator: DeviceAuthenticator;
  options: ResolvedFrontOptions;
  logger: Logger;
  /** Passes a completed handshake to the proxy's `onConnect`. */
  deliver(pending: PendingConnect & { readonly answered: boolean }): void;
}

/** A protocol's handshake state machine, fed by the front. */
export interface Handshake {
  push(chunk: Buffer): void;
  /** The client sent FIN: finish with what was received, or fail. */
  onEnd(): void;
  onTimeout(): void;
}

/** The tunnel payload pipelined behind the request, copied so it does not pin a larger buffer. */
export function copyHead(rest: Buffer): Buffer {
  return rest.length === 0 ? Buffer.alloc(0) : Buffer.from(rest);
}
