/** Where the load generator connects: straight to the source, through haproxy, or through tsmp. */
export type TargetKind = 'direct' | 'haproxy' | 'tsmp';

/**
 * Every path a relay figure may measure: the three above, plus `pipe`, a plain Node
 * `socket.pipe` relay (`pipe-relay-main.ts`) measured as a reference only, never judged.
 */
export type RelayKind = TargetKind | 'pipe';

export interface PlainTarget {
  kind: 'direct' | 'haproxy' | 'pipe';
  port: number;
}

export interface TsmpTarget {
  kind: 'tsmp';
  /** The proxy's SOCKS5 port. */
  port: number;
  user: string;
  pass: string;
  /** The destination asked for in the SOCKS5 request. */
  host: string;
  destPort: number;
  /**
   * Send greeting, authentication and CONNECT in one write (one round trip, as the tsmp agent
   * does) instead of one message per round trip as curl does.
   */
  pipelined?: boolean;
}

export type Target = PlainTarget | TsmpTarget;

export const TARGET_KINDS: readonly TargetKind[] = ['direct', 'haproxy', 'tsmp'];

/** The order in which a round measures the paths (rotated each round). */
export const RELAY_KINDS: readonly RelayKind[] = ['direct', 'haproxy', 'pipe', 'tsmp'];
