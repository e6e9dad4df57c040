/**
 * One server-side migration of one connection, as the client library saw it. The proxy shows
 * these through `GET /v1/migrations/{id}` (docs/mtcp.md, "Using it from the proxy").
 * Phases are epoch ms, absent until reached.
 */
export type MigrationTrigger = 'demand' | 'failure' | 'policy';
export type MigrationState = 'detaching' | 'connecting' | 'resuming' | 'done' | 'failed';

export interface MigrationAttempt {
  member: string;
  ok: boolean;
  error?: { code: string; message: string };
}

export interface ServerMigrationRecord {
  id: string;
  connection: string;
  trigger: MigrationTrigger;
  /** Why, for failure and policy triggers (e.g. "reset", "silent 3000 ms", "throughput 12% of max"). */
  reason?: string;
  from: string;
  /** The member asked for (on demand), then the one that took the connection. */
  to: string | null;
  state: MigrationState;
  phases: {
    requested: number;
    detached?: number;
    connected?: number;
    resumed?: number;
    firstByte?: number;
    done?: number;
    failed?: number;
  };
  /** State transfer as measured by the new member, and how the state got there. */
  transfer?: { source: 'local' | 'peer' | 'store'; ms: number };
  /** ms (to the µs) from detach to TCP connected, and to RESUMED (includes the transfer). */
  timings: { reconnectMs?: number; resumeMs?: number; totalMs?: number };
  /** Output offset the stream resumed at (bytes the client already had). */
  outOffset: number;
  /** Input bytes sent again because the new member did not have them. */
  bytesReplayed: number;
  attempts: MigrationAttempt[];
  /**
   * How the member that took the connection was reached: over the standby connection (the hello
   * went out at once) or over a new TCP connection.
   */
  via?: 'standby' | 'connect';
  /**
   * The standby connection was taken but failed before any answer (its member died or restarted
   * unnoticed); the same attempt then went on over a new connection.
   */
  standbyFallback?: { member: string; code: string; message: string };
  error?: { code: string; message: string };
}
