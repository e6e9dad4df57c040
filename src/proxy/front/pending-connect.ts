import { TsmpError } from '../../common/errors.js';
import type { DeviceIdentity } from '../auth/device-authenticator.js';
import type { HandshakeConnection } from './handshake-connection.js';
import type { ConnectFailure, Destination, FrontProtocol, PendingConnect } from './types.js';

/** `accept` or `reject` called a second time: the reply has already gone out. */
export class AlreadyAnsweredError extends TsmpError {
  constructor() {
    super('ERR_FRONT_ALREADY_ANSWERED', 'this CONNECT has already been answered');
  }
}

export interface PendingConnectInit {
  protocol: FrontProtocol;
  identity: DeviceIdentity;
  destination: Destination;
  head: Buffer;
  successReply(bound: { address: string; port: number }): Buffer;
  failureReply(reason: ConnectFailure): Buffer;
}

/**
 * Hands the connection over and wraps it as the `PendingConnect` the proxy receives. The reply
 * bytes are counted into `preambleBytes()` through the same connection that counted the
 * handshake's.
 */
export function handOverPending(connection: HandshakeConnection, init: PendingConnectInit): PendingConnect & { readonly answered: boolean } {
  connection.handOver();
  let answered = false;
  const answer = (): void => {
    if (answered) throw new AlreadyAnsweredError();
    answered = true;
  };
  return {
    protocol: init.protocol,
    identity: init.identity,
    destination: init.destination,
    socket: connection.socket,
    head: init.head,
    acceptedAt: connection.acceptedAt,
    get answered() {
      return answered;
    },
    accept(bound) {
      answer();
      connection.write(init.successReply(bound));
    },
    reject(reason) {
      answer();
      connection.fail(null, init.failureReply(reason));
    },
    preambleBytes: () => connection.preambleBytes,
  };
}
