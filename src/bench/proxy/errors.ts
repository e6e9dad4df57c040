import { TsmpError } from '../../common/errors.js';

/** The proxy benchmark could not complete a measurement (a child failed, bytes came out wrong). */
export class ProxyBenchError extends TsmpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PROXY_BENCH', message, options);
  }
}
