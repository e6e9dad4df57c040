/** Where the load generator connects: straight to the source, through haproxy, or through tsmp. */
export type TargetKind = 'direct' | 'haproxy' | 'tsmp';

export interface PlainTarget {
  kind: 'direct' | 'haproxy';
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
}

export type Target = PlainTarget | TsmpTarget;

export const TARGET_KINDS: readonly TargetKind[] = ['direct', 'haproxy', 'tsmp'];
