import { TsmpError } from '../../common/errors.js';

/** A benchmark run that could not complete (a role failed, a transfer came out wrong). */
export class BenchError extends TsmpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BENCH', message, options);
  }
}
