import type { DeviceIdentity } from '../auth/device-authenticator.js';
import { HttpConnectDecodeError, HttpConnectDecoder } from '../wire/http-connect-decoder.js';
import {
  buildConnectEstablished,
  buildConnectFailure,
  buildHttpError,
  buildProxyAuthRequired,
} from '../wire/http-connect-responses.js';
import { copyHead, type Handshake, type HandshakeContext } from './handshake-context.js';
import type { HandshakeFailure } from './handshake-connection.js';
import { handOverPending } from './pending-connect.js';

const FAILURE_OF_STATUS: Readonly<Record<HttpConnectDecodeError['status'], HandshakeFailure>> = {
  400: 'malformed',
  405: 'method-not-allowed',
  431: 'oversized',
};

/**
 * The server side of an HTTP CONNECT (RFC 9110 section 9.3.6) with `Proxy-Authorization: Basic`
 * (RFC 7617; username = DID, password = token). States: reading the head, authenticating, done.
 * Every refusal is a final response and a close: the front never keeps a connection alive for a
 * second attempt, which would let one socket try many tokens.
 */
export class HttpConnectHandshake implements Handshake {
  private readonly decoder: HttpConnectDecoder;
  private state: 'head' | 'authenticating' | 'done' = 'head';

  constructor(private readonly ctx: HandshakeContext) {
    this.decoder = new HttpConnectDecoder(ctx.options.maxHttpHeaderBytes);
  }

  push(chunk: Buffer): void {
    if (this.state === 'done') return;
    try {
      // Bytes behind the head (while authenticating) are tunnel payload; they join `rest()`.
      this.decoder.feed(chunk);
      if (this.state !== 'head') return;
      const request = this.decoder.read();
      if (request === null) return;
      this.state = 'authenticating';
      void this.authenticate(request.credentials, request.destination);
    } catch (err) {
      this.failOnError(err);
    }
  }

  onEnd(): void {
    // While authenticating, the request is complete and the FIN is the proxy's to pass on.
    if (this.state === 'head') this.ctx.connection.fail('closed-early');
  }

  onTimeout(): void {
    // RFC 9110 section 15.5.9: 408 tells the client the server gave up waiting for the request.
    this.ctx.connection.fail('timeout', this.state === 'head' ? buildHttpError(408) : undefined);
  }

  private async authenticate(
    credentials: { username: string; password: string } | null,
    destination: Parameters<typeof handOverPending>[1]['destination'],
  ): Promise<void> {
    const connection = this.ctx.connection;
    if (credentials === null) {
      connection.fail('bad-credentials', buildProxyAuthRequired());
      return;
    }
    // Paused across the await: pipelined payload waits in the kernel, and a FIN is not consumed.
    connection.pause();
    let identity: DeviceIdentity | null;
    try {
      identity = await this.ctx.authenticator.authenticate(credentials.username, credentials.password);
    } catch (err) {
      this.ctx.logger.warn({ err }, 'device authenticator failed');
      connection.fail('auth-unavailable', buildConnectFailure('unavailable'));
      return;
    }
    if (!connection.open) return;
    if (identity === null) {
      this.ctx.logger.info({ username: credentials.username }, 'HTTP CONNECT authentication failed');
      connection.fail('bad-credentials', buildProxyAuthRequired());
      return;
    }
    this.state = 'done';
    this.ctx.deliver(
      handOverPending(connection, {
        protocol: 'http-connect',
        identity,
        destination,
        head: copyHead(this.decoder.rest()),
        successReply: () => buildConnectEstablished(),
        failureReply: (reason) => buildConnectFailure(reason),
      }),
    );
  }

  private failOnError(err: unknown): void {
    this.state = 'done';
    if (err instanceof HttpConnectDecodeError) {
      this.ctx.logger.debug({ code: err.code }, 'refused HTTP request');
      this.ctx.connection.fail(FAILURE_OF_STATUS[err.status], buildHttpError(err.status));
      return;
    }
    this.ctx.logger.error({ err }, 'HTTP CONNECT handshake failed unexpectedly');
    this.ctx.connection.fail('malformed', buildHttpError(400));
  }
}
