/**
 * Base class of every error tsmp raises on purpose. `code` is stable and is what callers branch
 * on; the message is for humans and may change.
 */
export class TsmpError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value that cannot be used; raised when a component is built. */
export class ConfigError extends TsmpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', message, options);
  }
}

/** A wait that ran past its bound. */
export class TimeoutError extends TsmpError {
  constructor(what: string, ms: number) {
    super('ERR_TIMEOUT', `${what} timed out after ${ms} ms`);
  }
}

/** A buffer that would grow past its configured bound. */
export class BufferLimitError extends TsmpError {
  constructor(what: string, limit: number) {
    super('ERR_BUFFER_LIMIT', `${what} exceeds its bound of ${limit} bytes`);
  }
}
