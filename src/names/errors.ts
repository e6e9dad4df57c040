import { TsmpError } from '../common/errors.js';

/**
 * Errors of the name server. Each carries the HTTP status it maps to, so the API layer has one
 * table instead of branching on error types; `code` is what clients branch on.
 */
export class NamesError extends TsmpError {
  readonly status: number;

  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

export class BadRequestError extends NamesError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, 'ERR_BAD_REQUEST', message, options);
  }
}

/** One error for unknown users, wrong passwords and bad tokens, so accounts cannot be enumerated. */
export class UnauthorizedError extends NamesError {
  constructor(message = 'invalid credentials') {
    super(401, 'ERR_UNAUTHORIZED', message);
  }
}

export class ForbiddenError extends NamesError {
  constructor(message: string) {
    super(403, 'ERR_FORBIDDEN', message);
  }
}

export class NotFoundError extends NamesError {
  constructor(message: string) {
    super(404, 'ERR_NOT_FOUND', message);
  }
}

export class ConflictError extends NamesError {
  constructor(message: string) {
    super(409, 'ERR_CONFLICT', message);
  }
}

export class AgentNotConnectedError extends NamesError {
  constructor(did: string) {
    super(409, 'ERR_AGENT_NOT_CONNECTED', `no push channel is open to ${did}`);
  }
}

export class PayloadTooLargeError extends NamesError {
  constructor(message: string) {
    super(413, 'ERR_PAYLOAD_TOO_LARGE', message);
  }
}

/** Raised by the client when the name server answered with an error document. */
export class NameServerHttpError extends TsmpError {
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/**
 * The push channel cannot carry this request (not open, the server offers no RPC, its in-flight
 * bound is reached, or the session closed before the answer): the caller uses HTTP instead.
 */
export class RpcUnavailableError extends TsmpError {
  constructor(message: string) {
    super('ERR_RPC_UNAVAILABLE', message);
  }
}
