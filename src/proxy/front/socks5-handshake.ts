import type { DeviceIdentity } from '../auth/device-authenticator.js';
import { socks5ReplyFor } from '../wire/reply-codes.js';
import { buildAuthStatus, buildMethodSelection, buildReply } from '../wire/socks5-builders.js';
import { Socks5AuthStatus, Socks5Command, Socks5Method, Socks5Reply } from '../wire/socks5-constants.js';
import { SOCKS5_DECODER_STATES, Socks5DecodeError, Socks5ServerDecoder } from '../wire/socks5-decoder.js';
import { copyHead, type Handshake, type HandshakeContext } from './handshake-context.js';
import { handOverPending } from './pending-connect.js';

/**
 * The server side of a SOCKS5 handshake (RFC 1928 sections 3-6, RFC 1929): greeting, method
 * selection (username/password is the only method offered: no open proxy), authentication of
 * `DID:token`, then the request. CONNECT is handed to the proxy; BIND and UDP ASSOCIATE get
 * "command not supported".
 */
export class Socks5Handshake implements Handshake {
  private readonly decoder: Socks5ServerDecoder;
  private identity: DeviceIdentity | null = null;
  private busy = false;
  private ended = false;

  constructor(private readonly ctx: HandshakeContext) {
    this.decoder = new Socks5ServerDecoder(ctx.options.maxSocks5BufferBytes);
  }

  push(chunk: Buffer): void {
    try {
      this.decoder.feed(chunk);
    } catch (err) {
      this.failOnError(err);
      return;
    }
    void this.pump();
  }

  onEnd(): void {
    this.ended = true;
    void this.pump();
  }

  onTimeout(): void {
    // RFC 1928 has no reply before the request, and a timed-out client is not waiting for one.
    this.ctx.connection.fail('timeout');
  }

  /** Decodes and answers messages until input runs out; one at a time across awaits. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const connection = this.ctx.connection;
    try {
      while (connection.open) {
        const message = this.decoder.read();
        if (message === null) {
          // Nothing more will come: a handshake still short of its request cannot finish.
          if (this.ended) connection.fail('closed-early');
          return;
        }
        switch (message.type) {
          case 'greeting': {
            if (!message.methods.includes(Socks5Method.USERNAME_PASSWORD)) {
              connection.fail('no-acceptable-method', buildMethodSelection(Socks5Method.NO_ACCEPTABLE));
              return;
            }
            connection.write(buildMethodSelection(Socks5Method.USERNAME_PASSWORD));
            this.decoder.selectMethod(Socks5Method.USERNAME_PASSWORD);
            break;
          }
          case 'auth': {
            // Paused across the await: input waits in the kernel, and a FIN is not consumed here.
            connection.pause();
            let identity: DeviceIdentity | null;
            try {
              identity = await this.ctx.authenticator.authenticate(message.username, message.password);
            } catch (err) {
              this.ctx.logger.warn({ err }, 'device authenticator failed');
              connection.fail('auth-unavailable', buildAuthStatus(Socks5AuthStatus.FAILURE));
              return;
            }
            if (!connection.open) return;
            if (identity === null) {
              this.ctx.logger.info({ username: message.username }, 'SOCKS5 authentication failed');
              connection.fail('bad-credentials', buildAuthStatus(Socks5AuthStatus.FAILURE));
              return;
            }
            this.identity = identity;
            connection.write(buildAuthStatus(Socks5AuthStatus.SUCCESS));
            connection.resume();
            break;
          }
          case 'request': {
            if (message.command !== Socks5Command.CONNECT || this.identity === null) {
              connection.fail('command-not-supported', buildReply(Socks5Reply.COMMAND_NOT_SUPPORTED));
              return;
            }
            this.ctx.deliver(
              handOverPending(connection, {
                protocol: 'socks5',
                identity: this.identity,
                destination: message.destination,
                head: copyHead(this.decoder.rest()),
                successReply: (bound) => buildReply(Socks5Reply.SUCCEEDED, bound),
                failureReply: (reason) => buildReply(socks5ReplyFor(reason)),
              }),
            );
            return;
          }
        }
      }
    } catch (err) {
      this.failOnError(err);
    } finally {
      this.busy = false;
    }
  }

  private failOnError(err: unknown): void {
    const connection = this.ctx.connection;
    if (!(err instanceof Socks5DecodeError)) {
      this.ctx.logger.error({ err }, 'SOCKS5 handshake failed unexpectedly');
      connection.fail('malformed');
      return;
    }
    this.ctx.logger.debug({ code: err.code }, 'malformed SOCKS5 handshake');
    if (err.code === 'ERR_SOCKS5_BUFFER_LIMIT') {
      connection.fail('oversized');
    } else if (this.decoder.state === SOCKS5_DECODER_STATES.AUTH) {
      connection.fail('malformed', buildAuthStatus(Socks5AuthStatus.FAILURE));
    } else if (this.decoder.state === SOCKS5_DECODER_STATES.REQUEST) {
      connection.fail('malformed', buildReply(socks5ReplyFor(err.failure ?? 'general')));
    } else {
      connection.fail('malformed');
    }
  }
}
