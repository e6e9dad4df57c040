import { readFileSync } from 'node:fs';
import cluster from 'node:cluster';
import type { Command } from 'commander';
import { parseHostPort, type HostPort } from '../../common/host-port.js';
import { createLogger } from '../../common/logger.js';
import { runProxyPrimary } from '../../proxy/cluster/proxy-primary.js';
import { runProxyWorker } from '../../proxy/cluster/proxy-worker.js';
import type { ProxyOptions } from '../../proxy/proxy-options.js';
import { ConfigError } from '../../common/errors.js';
import type { DeviceAuthenticator } from '../../proxy/auth/device-authenticator.js';
import { UsersFileAuthenticator } from '../../proxy/auth/users-file-authenticator.js';
import { NameServerAuthenticator } from '../../proxy/auth/nameserver-authenticator.js';
import { wireNameServer } from '../../proxy/auth/nameserver-wiring.js';
import { Proxy } from '../../proxy/proxy.js';
import { PROXY_DEFAULTS } from '../../proxy/proxy-options.js';
import { parseByteSize, parseDuration } from '../parse-units.js';
import { loadPoolFileForProxy, parsePoolAddressList, validateMtcpOptions } from '../../proxy/upstream/mtcp-pools.js';

interface ProxyCliOptions {
  listen: string;
  control: string;
  users?: string;
  nameserver?: string;
  ca?: string;
  serviceKey?: string;
  tlsCert?: string;
  tlsKey?: string;
  maxBuffer: string;
  detachHold: string;
  migrationTimeout: string;
  handshakeTimeout: string;
  connectTimeout: string;
  keepalive: string;
  workers: string;
  drainWait: string;
  mtcpPool: string[];
  mtcpPoolFile: string[];
  mtcpPolicyFraction?: string;
  mtcpSilenceTimeout: string;
}

const collectRepeated = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `tsmp proxy`. */
export function registerProxyCommands(program: Command): void {
  program
    .command('proxy')
    .description('run the SMP proxy: SOCKS5 and HTTP CONNECT for your devices, with live migration')
    .option('--listen <host:port>', 'where devices connect (SOCKS5 and HTTP CONNECT)', '127.0.0.1:1080')
    .option('--control <host:port>', 'control API address', '127.0.0.1:1081')
    .option('--users <file>', 'standalone mode: JSON {"<uid>": {"<device>": "<token>"}}')
    .option('--nameserver <url>', 'authenticate devices against a tsmp name server')
    .option('--ca <file>', 'CA certificate to trust for an https name server')
    .option('--service-key <key>', 'the name server\'s service key, to push migrations to agents (default $TSMP_SERVICE_KEY)')
    .option('--tls-cert <file>', 'serve the control API over HTTPS with this certificate')
    .option('--tls-key <file>', 'private key for --tls-cert')
    .option('--max-buffer <bytes>', 'per-connection bound on cached bytes (e.g. 4MiB)', String(PROXY_DEFAULTS.maxBuffer))
    .option('--detach-hold <duration>', 'how long a connection whose device vanished stays resumable', '120s')
    .option('--migration-timeout <duration>', 'roll back a migration not attached within this', '60s')
    .option('--handshake-timeout <duration>', 'bound on a SOCKS5/CONNECT handshake', '10s')
    .option('--connect-timeout <duration>', 'bound on reaching a destination', '10s')
    .option('--keepalive <duration>', 'TCP keepalive idle time on device sockets', '30s')
    .option('--workers <n>', 'processes sharing the port (one per core is a good start)', '1')
    .option('--drain-wait <duration>', 'an attach waits for the old device while it keeps acknowledging; cut after this long without progress (or 2 RTTs)', '100ms')
    .option('--mtcp-pool <host:port,...>', 'an M-TCP pool by its member addresses; CONNECTs to them use M-TCP (repeatable, one pool each)', collectRepeated, [])
    .option('--mtcp-pool-file <file>', 'an M-TCP pool file (the servers\' format; only member addresses are used) (repeatable)', collectRepeated, [])
    .option('--mtcp-policy-fraction <f>', 'migrate an M-TCP server end when its throughput falls below f × the best seen (0 < f < 1; off by default)')
    .option('--mtcp-silence-timeout <duration>', 'an M-TCP member silent this long (no byte, no heartbeat) counts as failed; 0 = never', '3s')
    .action(async (opts: ProxyCliOptions) => {
      const logger = createLogger('proxy');
      const authenticator = await buildAuthenticator(opts);
      const tls = opts.tlsCert || opts.tlsKey ? readTls(opts) : undefined;
      const workers = Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 16) throw new ConfigError('--workers must be 1 to 16');
      const listen = parseHostPort(opts.listen);
      const options: ProxyOptions = {
        listen,
        control: parseHostPort(opts.control),
        ...(tls ? { tls } : {}),
        maxBuffer: parseByteSize(opts.maxBuffer),
        detachHoldMs: parseDuration(opts.detachHold),
        migrationTimeoutMs: parseDuration(opts.migrationTimeout),
        handshakeTimeoutMs: parseDuration(opts.handshakeTimeout),
        connectTimeoutMs: parseDuration(opts.connectTimeout),
        keepaliveMs: parseDuration(opts.keepalive),
        drainWaitMs: parseDuration(opts.drainWait),
        ...mtcpOptions(opts),
      };
      const onStop = (close: () => Promise<void>) => {
        const stop = () => void close().then(() => process.exit(0));
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      };
      if (cluster.isWorker) {
        const proxy = await runProxyWorker(Number(process.env.TSMP_WORKER_INDEX ?? 0), options, authenticator, logger);
        wireNameServer(proxy, authenticator, listen, logger);
        onStop(() => proxy.close());
        return;
      }
      let bound: { listen: number; control: HostPort | null };
      if (workers > 1) {
        const primary = await runProxyPrimary({ workers, control: options.control!, ...(tls ? { tls } : {}), authenticator, logger });
        bound = { listen: primary.listen, control: primary.control };
        onStop(() => primary.close());
      } else {
        const proxy = new Proxy(options, { authenticator, logger });
        const b = await proxy.start();
        wireNameServer(proxy, authenticator, b.listen, logger);
        bound = { listen: b.listen.port, control: b.control };
        onStop(() => proxy.close());
      }
      process.stdout.write(
        `tsmp proxy: devices on ${listen.host}:${bound.listen}, control API on ${tls ? 'https' : 'http'}://${bound.control?.host}:${bound.control?.port}` +
          (workers > 1 ? ` (${workers} workers)\n` : '\n'),
      );
    });
}

async function buildAuthenticator(opts: ProxyCliOptions): Promise<DeviceAuthenticator> {
  if (opts.users && opts.nameserver) throw new ConfigError('give either --users or --nameserver, not both');
  if (opts.users) return UsersFileAuthenticator.fromFile(opts.users);
  if (opts.nameserver) {
    return NameServerAuthenticator.fromUrl(opts.nameserver, {
      ...(opts.ca ? { ca: readFileSync(opts.ca) } : {}),
      ...(opts.serviceKey ? { serviceKey: opts.serviceKey } : {}),
    });
  }
  // There is no unauthenticated mode (issue 2, "Bad input and security").
  throw new ConfigError('the proxy needs --users FILE or --nameserver URL to authenticate devices');
}

/** `--mtcp-pool*` to `ProxyOptions.mtcp` (absent when no pool is configured). */
export function mtcpOptions(opts: Pick<ProxyCliOptions, 'mtcpPool' | 'mtcpPoolFile' | 'mtcpPolicyFraction' | 'mtcpSilenceTimeout'>): Pick<ProxyOptions, 'mtcp'> {
  const pools = [...opts.mtcpPool.map(parsePoolAddressList), ...opts.mtcpPoolFile.map(loadPoolFileForProxy)];
  if (pools.length === 0) {
    if (opts.mtcpPolicyFraction !== undefined) throw new ConfigError('--mtcp-policy-fraction needs --mtcp-pool or --mtcp-pool-file');
    return {};
  }
  let policyFraction: number | undefined;
  if (opts.mtcpPolicyFraction !== undefined) {
    policyFraction = Number(opts.mtcpPolicyFraction);
    if (!(policyFraction > 0 && policyFraction < 1)) throw new ConfigError(`--mtcp-policy-fraction must be between 0 and 1, got "${opts.mtcpPolicyFraction}"`);
  }
  return {
    mtcp: validateMtcpOptions({
      pools,
      silenceTimeoutMs: parseDuration(opts.mtcpSilenceTimeout),
      ...(policyFraction !== undefined ? { policyFraction } : {}),
    }),
  };
}

function readTls(opts: ProxyCliOptions): { cert: Buffer; key: Buffer } {
  if (!opts.tlsCert || !opts.tlsKey) throw new ConfigError('--tls-cert and --tls-key go together');
  return { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) };
}
