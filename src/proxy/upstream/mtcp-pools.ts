import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../common/errors.js';
import { formatHostPort, parseHostPort, type HostPort } from '../../common/host-port.js';

/**
 * Which destinations are M-TCP pools (issue 5: the proxy is the client-side M-TCP endpoint for
 * legacy clients). Only a CONNECT to an address listed here is opened with the M-TCP preamble;
 * every other destination gets a plain TCP connection, so a plain server never sees M-TCP bytes.
 */
export interface MtcpPoolSpec {
  /** For logs and the control API: the pool file's path, or the first address. */
  name: string;
  /** Member addresses (`host:port`); ids when a pool file gave them. */
  members: { id?: string; address: string }[];
}

/** The proxy's M-TCP settings (`--mtcp-pool`, `--mtcp-pool-file`, `--mtcp-policy-fraction`, ...). */
export interface MtcpUpstreamOptions {
  pools: MtcpPoolSpec[];
  /**
   * Throughput policy (the paper's rule): migrate when the throughput the proxy receives falls
   * below this fraction of the best seen on the connection. Off when absent.
   */
  policyFraction?: number;
  /** The serving member counts as failed after this long without a byte or heartbeat; 0 = never. @default 3000 */
  silenceTimeoutMs?: number;
  /** Bound on each member's TCP connect + M-TCP hello (first contact and each migration attempt). @default 3000 */
  handshakeTimeoutMs?: number;
}

/**
 * The key a destination is matched by: the host as the client named it (lower-cased), and the
 * port. `127.0.0.1:7101` and `localhost:7101` differ, as for device migrations' destination
 * matching (docs/proxy.md): resolving names here would make the choice depend on DNS.
 */
export function destinationKey(d: HostPort): string {
  return formatHostPort({ host: d.host.toLowerCase(), port: d.port });
}

/** `--mtcp-pool HOST:PORT[,HOST:PORT...]`: one pool given by its member addresses. */
export function parsePoolAddressList(text: string): MtcpPoolSpec {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new ConfigError(`--mtcp-pool: expected HOST:PORT[,HOST:PORT...], got "${text}"`);
  const members = parts.map((p) => {
    const hp = parseHostPort(p);
    if (hp.port === 0) throw new ConfigError(`--mtcp-pool: port 0 in "${p}" cannot be connected to`);
    return { address: formatHostPort(hp) };
  });
  return { name: members[0]!.address, members };
}

/**
 * The proxy reads the same pool file as the servers but uses only the member addresses; the key
 * is not needed (the certificate comes in the WELCOME) and may be left out of the proxy's copy.
 */
const proxyPoolFileSchema = z.looseObject({
  members: z.array(z.looseObject({ id: z.string().min(1).max(128), address: z.string().min(3) })).min(1),
});

export function parsePoolFileForProxy(json: unknown, source: string): MtcpPoolSpec {
  const parsed = proxyPoolFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`pool file ${source}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  const members = parsed.data.members.map((m) => {
    const hp = parseHostPort(m.address);
    if (hp.port === 0) throw new ConfigError(`pool file ${source}: member ${m.id} has port 0`);
    return { id: m.id, address: formatHostPort(hp) };
  });
  return { name: source, members };
}

export function loadPoolFileForProxy(path: string): MtcpPoolSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read pool file ${path}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`pool file ${path} is not JSON`, { cause: err });
  }
  return parsePoolFileForProxy(json, path);
}

/** Checks the settings; returns them with every pool's addresses in canonical form. */
export function validateMtcpOptions(o: MtcpUpstreamOptions): MtcpUpstreamOptions {
  if (o.policyFraction !== undefined && !(o.policyFraction > 0 && o.policyFraction < 1)) {
    throw new ConfigError(`the M-TCP policy fraction must be between 0 and 1 (exclusive), got ${o.policyFraction}`);
  }
  if (o.silenceTimeoutMs !== undefined && !(Number.isFinite(o.silenceTimeoutMs) && o.silenceTimeoutMs >= 0)) {
    throw new ConfigError(`the M-TCP silence timeout must be zero or more, got ${o.silenceTimeoutMs}`);
  }
  if (o.handshakeTimeoutMs !== undefined && !(Number.isFinite(o.handshakeTimeoutMs) && o.handshakeTimeoutMs > 0)) {
    throw new ConfigError(`the M-TCP handshake timeout must be positive, got ${o.handshakeTimeoutMs}`);
  }
  new MtcpPoolTable(o.pools); // duplicate addresses
  return o;
}

/** Looks destinations up among the configured pools. */
export class MtcpPoolTable {
  private readonly byAddress = new Map<string, MtcpPoolSpec>();

  constructor(pools: readonly MtcpPoolSpec[]) {
    for (const pool of pools) {
      for (const m of pool.members) {
        const key = destinationKey(parseHostPort(m.address));
        const other = this.byAddress.get(key);
        if (other && other !== pool) throw new ConfigError(`M-TCP pool address ${m.address} is listed in two pools (${other.name}, ${pool.name})`);
        this.byAddress.set(key, pool);
      }
    }
  }

  get size(): number {
    return this.byAddress.size;
  }

  /** The pool `destination` belongs to, if it is a configured member address. */
  match(destination: HostPort): MtcpPoolSpec | undefined {
    return this.byAddress.get(destinationKey(destination));
  }

  /**
   * First-contact order for a CONNECT to `destination`: the member the client named, then the
   * pool's other members (the pool serves one service; one member being down must not refuse it).
   */
  firstContact(destination: HostPort, pool: MtcpPoolSpec): { id: string; address: string }[] {
    const named = destinationKey(destination);
    const own = pool.members.filter((m) => destinationKey(parseHostPort(m.address)) === named);
    const rest = pool.members.filter((m) => destinationKey(parseHostPort(m.address)) !== named);
    // Ids are only placeholders until the WELCOME brings the pool's own list.
    return [...own, ...rest].map((m) => ({ id: m.id ?? m.address, address: m.address }));
  }
}
