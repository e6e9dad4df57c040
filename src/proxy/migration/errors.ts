import { TsmpError } from '../../common/errors.js';

/**
 * A request on a connection or migration that cannot be served. `status` is the HTTP status the
 * control API answers with; the code is what clients branch on.
 */
export class ControlRequestError extends TsmpError {
  constructor(
    code: string,
    readonly status: 400 | 403 | 404 | 409 | 413 | 503,
    message: string,
  ) {
    super(code, message);
  }
}

export const notFound = (what: 'connection' | 'migration' | 'device', id: string) =>
  new ControlRequestError(`ERR_${what.toUpperCase()}_NOT_FOUND`, 404, `no ${what} ${id}`);

export const conflict = (code: string, message: string) => new ControlRequestError(code, 409, message);
