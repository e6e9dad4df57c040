import type { DeviceIdentity } from '../auth/device-authenticator.js';
import type { FrontProtocol } from '../front/types.js';

/**
 * Messages between the primary and the workers of a multi-process proxy, over Node's cluster
 * IPC channel. Each is tagged `tsmp` so that other cluster traffic (prom-client's metric
 * aggregation) is told apart.
 */

/** The control API's operations, run by the worker that holds the connection. */
export type ControlOp =
  | { op: 'list'; uid: string }
  | { op: 'get'; uid: string; id: string }
  | { op: 'close'; uid: string; id: string }
  | { op: 'migrate'; uid: string; id: string; target: DeviceIdentity; snapshot: unknown }
  /** M-TCP: move the server end of a pool connection (`to` omitted: the next member). */
  | { op: 'migrateServer'; uid: string; id: string; to?: string }
  | { op: 'getMigration'; uid: string; id: string; waitMs?: number }
  | { op: 'listMigrations'; uid: string };

export type PrimaryToWorker =
  | { tsmp: 'request'; seq: number; call: ControlOp }
  | { tsmp: 'owner-answer'; seq: number; owner: number | null }
  /** A migration waits for `did` to connect to `destination`; held by worker `owner`. */
  | { tsmp: 'expect'; migration: string; did: string; destination: string; owner: number }
  | { tsmp: 'unexpect'; migration: string }
  /** Comes with the device socket as the IPC handle. */
  | { tsmp: 'adopt'; destination: string; ticket?: string; device: HandedDevice };

export type WorkerToPrimary =
  | { tsmp: 'listening'; port: number }
  | { tsmp: 'response'; seq: number; ok: true; value: unknown }
  | { tsmp: 'response'; seq: number; ok: false; error: { code: string; status: number; message: string } }
  | { tsmp: 'owner-of-ticket'; seq: number; ticket: string; did: string }
  | { tsmp: 'finished'; migration: string }
  /** Comes with the device socket as the IPC handle. */
  | { tsmp: 'handoff'; owner: number; ticket?: string; destination: string; device: HandedDevice };

/** What the receiving worker needs to continue a device socket whose handshake is done. */
export interface HandedDevice {
  identity: DeviceIdentity;
  protocol: FrontProtocol;
  preamble: number;
  /** Tunnel bytes already read by the handing worker, base64. */
  head: string;
  /** The device's FIN was read by the handing worker, so the receiving one will never see it. */
  ended: boolean;
  connectedAt: number;
}

export function isTsmpMessage(msg: unknown): msg is { tsmp: string } {
  return typeof msg === 'object' && msg !== null && typeof (msg as { tsmp?: unknown }).tsmp === 'string';
}
