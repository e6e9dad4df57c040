import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/logger.js';
import type { JsonValue } from '../app-api.js';

/**
 * A stream the proxy resumed on this device: in practice the socket of a tunnel the agent opened
 * with the migration ticket, whose first byte is the first byte the old device had not
 * acknowledged (docs/CONTRACTS.md, "How the target device picks the stream up").
 */
export interface ResumedStream {
  stream: Duplex;
  /** The app state exported on the old device (the envelope's `state`, or a foreign snapshot). */
  snapshot?: JsonValue;
  /** The migration-aware app named in the envelope, if any. */
  app?: string;
  migration: string;
  connection: string;
  /** `host:port` of the server end. */
  destination: string;
  /** DID of the device the connection came from. */
  from?: string;
}

/** What a handler did with a stream, for `tsmp status` and the dashboard. */
export interface HandlerOutcome {
  /** The spec that ran, e.g. `file:/tmp/video.part2`. */
  handler: string;
  /** Bytes read from the resumed stream (server → this device). */
  bytesIn: number;
  /** Bytes written back upstream (this device → server). */
  bytesOut: number;
  /** Exit code of `exec:` and `app` commands. */
  exitCode?: number | null;
}

export interface HandlerContext {
  logger: Logger;
  /** Aborting stops the handler and destroys the stream. */
  signal?: AbortSignal;
}

export interface StreamHandler {
  /** The spec text, for reports. */
  readonly spec: string;
  /** Takes over the stream; settles once the stream is finished with. */
  handle(resumed: ResumedStream, context: HandlerContext): Promise<HandlerOutcome>;
}

/** The parsed form of a handler spec. */
export type HandlerSpec =
  | { kind: 'file'; path: string }
  | { kind: 'exec'; command: string }
  | { kind: 'port'; host: string; port: number }
  | { kind: 'app'; name: string }
  | { kind: 'aware'; app?: string };
