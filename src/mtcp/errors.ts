import { TsmpError } from '../common/errors.js';

/** Stable codes of the M-TCP kit; REJECT frames carry them to the client too. */
export const MtcpErrorCode = {
  PROTOCOL: 'ERR_MTCP_PROTOCOL',
  CERT_INVALID: 'ERR_MTCP_CERT_INVALID',
  CERT_EXPIRED: 'ERR_MTCP_CERT_EXPIRED',
  CERT_WRONG_CONNECTION: 'ERR_MTCP_CERT_WRONG_CONNECTION',
  SNAPSHOT_INVALID: 'ERR_MTCP_SNAPSHOT_INVALID',
  STATE_UNAVAILABLE: 'ERR_MTCP_STATE_UNAVAILABLE',
  REPLAY_GAP: 'ERR_MTCP_REPLAY_GAP',
  PEER_AUTH: 'ERR_MTCP_PEER_AUTH',
  MIGRATION_FAILED: 'ERR_MTCP_MIGRATION_FAILED',
  NOT_MIGRATORY: 'ERR_MTCP_NOT_MIGRATORY',
  CLOSED: 'ERR_MTCP_CLOSED',
  /** A resume attempt older than the one that holds the connection. */
  STALE: 'ERR_MTCP_STALE',
} as const;
export type MtcpErrorCodeValue = (typeof MtcpErrorCode)[keyof typeof MtcpErrorCode];

export class MtcpError extends TsmpError {
  constructor(code: MtcpErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Malformed or unexpected bytes from a peer. */
export class MtcpProtocolError extends MtcpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(MtcpErrorCode.PROTOCOL, message, options);
  }
}
