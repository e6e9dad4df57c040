import type { Duplex } from 'node:stream';
import { SnapshotError } from './errors.js';

/**
 * The migration-aware application API, after M-TCP's export/import contract (Sultan, Srinivasan,
 * Iftode, "Migratory TCP", section 3.2): the application on the old host exports a small,
 * self-contained state snapshot of one connection; the application on the new host imports it and
 * carries on from there. Here the snapshot rides with the migration request
 * (`POST /v1/connections/{id}/migrate`, field `snapshot`, docs/CONTRACTS.md) and reaches the
 * target device's agent in the Migration-To-Request, together with the ticket that resumes the
 * byte stream. The stream itself needs no replay: the proxy resumes it at the first byte the old
 * device did not acknowledge, so the snapshot only has to describe application state (a file
 * offset, a chat nickname), never buffered bytes.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Snapshots are small by contract; this bounds what an app may export and what an agent accepts. */
export const DEFAULT_MAX_SNAPSHOT_BYTES = 16 * 1024;

/**
 * What the agent puts in the proxy's `snapshot` field. `tsmp: 1` marks it as ours, so a snapshot
 * from some other client (plain JSON) is still handed to the handler untouched.
 */
export interface SnapshotEnvelope {
  tsmp: 1;
  /** The migration-aware app that exported `state`; its importer runs on the new device. */
  app?: string;
  state?: JsonValue;
  /** A per-migration handler override (`tsmp migrate --handler`), e.g. `file:/tmp/x`. */
  handler?: string;
}

/** The connection being moved, as the proxy's control API describes it. */
export interface ConnectionRef {
  id: string;
  /** `host:port` of the server end. */
  destination: string;
}

/** What the importing side learns besides the state. */
export interface ImportContext {
  connection: ConnectionRef;
  migration: string;
  /** DID of the device the connection came from. */
  from?: string;
}

export interface MigrationAwareApp<S extends JsonValue = JsonValue> {
  /** Stable name; it travels in the envelope and selects the importer on the new device. */
  readonly name: string;
  /** Which live connections this app owns on the old device. */
  owns?(connection: ConnectionRef): boolean;
  /** Old device: the state to carry (M-TCP export). Called once, when the migration is requested. */
  exportState?(connection: ConnectionRef): S | Promise<S>;
  /**
   * New device: take over the resumed stream (M-TCP import). The promise settles when the app is
   * done with the stream; the agent reports a rejection as a failed handler.
   */
  importState?(state: S, stream: Duplex, context: ImportContext): void | Promise<void>;
}

/** The apps of one agent, both as exporters (old device) and importers (new device). */
export class MigrationAwareApps {
  readonly #apps = new Map<string, MigrationAwareApp<JsonValue>>();
  readonly #maxSnapshotBytes: number;

  constructor(options: { maxSnapshotBytes?: number } = {}) {
    this.#maxSnapshotBytes = options.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES;
  }

  register<S extends JsonValue>(app: MigrationAwareApp<S>): () => void {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(app.name)) throw new SnapshotError(`bad app name "${app.name}"`);
    this.#apps.set(app.name, app as unknown as MigrationAwareApp<JsonValue>);
    return () => {
      if (this.#apps.get(app.name) === (app as unknown)) this.#apps.delete(app.name);
    };
  }

  get(name: string): MigrationAwareApp<JsonValue> | undefined {
    return this.#apps.get(name);
  }

  /**
   * Builds the snapshot for a migration of `connection`: asks the first app that owns it to export
   * its state, and adds the handler override. Returns undefined when there is nothing to carry.
   */
  async exportFor(connection: ConnectionRef, handler?: string): Promise<SnapshotEnvelope | undefined> {
    const envelope: SnapshotEnvelope = { tsmp: 1 };
    if (handler) envelope.handler = handler;
    for (const app of this.#apps.values()) {
      if (!app.exportState || !app.owns?.(connection)) continue;
      envelope.app = app.name;
      envelope.state = await app.exportState(connection);
      break;
    }
    if (!envelope.app && !envelope.handler) return undefined;
    checkSnapshotSize(envelope, this.#maxSnapshotBytes);
    return envelope;
  }
}

/** Throws unless `value` is JSON that serialises within `maxBytes`. */
export function checkSnapshotSize(value: unknown, maxBytes = DEFAULT_MAX_SNAPSHOT_BYTES): void {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new SnapshotError(`snapshot is not JSON: ${(err as Error).message}`);
  }
  if (text === undefined) throw new SnapshotError('snapshot is not JSON');
  const size = Buffer.byteLength(text);
  if (size > maxBytes) throw new SnapshotError(`snapshot of ${size} bytes exceeds its bound of ${maxBytes}`);
}

/** Reads our envelope out of a migration's snapshot; undefined for a foreign or absent snapshot. */
export function readEnvelope(snapshot: unknown): SnapshotEnvelope | undefined {
  if (typeof snapshot !== 'object' || snapshot === null || Array.isArray(snapshot)) return undefined;
  const s = snapshot as Record<string, unknown>;
  if (s.tsmp !== 1) return undefined;
  const envelope: SnapshotEnvelope = { tsmp: 1 };
  if (typeof s.app === 'string') envelope.app = s.app;
  if (typeof s.handler === 'string') envelope.handler = s.handler;
  if ('state' in s) envelope.state = s.state as JsonValue;
  return envelope;
}
