import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../../common/logger.js';
import { Topology } from '../../netem/topology.js';
import { BenchError } from './bench-error.js';
import { JsonlChild } from './jsonl-child.js';
import { paperHosts, type PaperNetwork } from './paper-network.js';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
/** The compiled CLI; the bench runs from dist/, next to it. */
const CLI = here('../../cli/main.js');

export const BOB = 'bob@example.org';
/** Above ordinary load on a shared machine, below the forwarder's real-time thread. */
const BENCH_NICENESS = -10;
const CAROL = 'carol@example.org';

export interface SessionOptions extends PaperNetwork {
  fileBytes: number;
  /** Per-connection cache bound given to the proxy (`--max-buffer`). */
  proxyMaxBuffer: number;
  /** Largest TCP send buffer in the proxy's namespace (tcp_wmem max), bytes; ≥ the 3G BDP. */
  proxySocketBuffer: number;
  /**
   * Largest TCP receive buffer in the proxy's namespace (tcp_rmem max), bytes. Small, so that the
   * proxy does not soak up the whole file from Alice long before the device can take it.
   */
  proxyReceiveBuffer: number;
  backgroundBytesPerSec: number;
  /** `net.ipv4.tcp_congestion_control` of every host but the proxy (Alice, devices, background). */
  congestionControl: string;
  /** The proxy host's congestion control: it sends over the devices' bottleneck links. */
  proxyCongestionControl: string;
  /**
   * The proxy host's `net.ipv4.tcp_notsent_lowat` (bytes; 0 leaves the kernel default): bounds the
   * bytes waiting unsent in each socket, so less sits queued towards a device when a migration
   * begins (less to drain from the old device). An operator's setting, not the proxy's code.
   */
  proxyNotsentLowat: number;
  /**
   * `tsmp proxy --workers N` (CLI launcher only). One process holds at most ~9,800 relayed
   * connections under this machine's hard open-file limit of 20,000 (two descriptors each), so
   * Figure 5's largest point runs two. @default 1
   */
  proxyWorkers?: number;
  /** `cli`: the real `tsmp proxy` command (default); `lib`: the library, if the CLI cannot load. */
  proxyLauncher?: 'cli' | 'lib';
  /** `false` for the no-tsmp alternative, which never talks to the proxy. @default true */
  withProxy?: boolean;
  log?: Logger;
}

export interface Cred {
  did: string;
  token: string;
}

/**
 * One run's world: the emulated network, Alice's server, a real `tsmp proxy` (standalone, with a
 * `--users` file), the push stand-in, Bob's devices and the background load. `close()` tears it
 * all down; the topology's own guards cover crashes and signals.
 */
export class PaperSession {
  readonly dir: string;
  readonly cred: Record<'old' | 'new' | 'bg', Cred>;
  alice!: { host: string; port: number };
  proxy!: { host: string; port: number };
  control!: { host: string; port: number };
  proxyStderr = '';
  push!: JsonlChild;
  /** Alice's server process: reports her socket's TCP_INFO (tcp-state.ts). */
  aliceRole!: JsonlChild;
  readonly devices: Partial<Record<'old' | 'new', JsonlChild>> = {};
  bgClients: JsonlChild | null = null;
  /** Background connections actually open through the proxy. */
  backgroundOpen = 0;

  private constructor(readonly topo: Topology, readonly opts: SessionOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'tsmp-paper-'));
    const token = (): string => randomBytes(16).toString('hex');
    this.cred = {
      old: { did: `old.${BOB}`, token: token() },
      new: { did: `new.${BOB}`, token: token() },
      bg: { did: `bg.${CAROL}`, token: token() },
    };
  }

  static async open(opts: SessionOptions): Promise<PaperSession> {
    const topo = await Topology.create({ hosts: paperHosts(opts) }, opts.log ?? silentLogger);
    const s = new PaperSession(topo, opts);
    try {
      await s.start();
    } catch (err) {
      s.close();
      throw err;
    }
    return s;
  }

  private node(host: string, script: string, args: string[], maxOpenFiles?: number): JsonlChild {
    const child = this.topo.spawn(host, process.execPath, [here(script), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'], ...(maxOpenFiles ? { maxOpenFiles } : {}), niceness: BENCH_NICENESS,
      env: { ...process.env, TSMP_LOG: process.env.TSMP_LOG ?? 'warn' },
    });
    return new JsonlChild(`${script} on ${host}`, child);
  }

  private async start(): Promise<void> {
    const o = this.opts;
    const t = this.topo;
    // Congestion control is pinned per host before any socket exists, so that results do not
    // depend on the machine's default. Only the names in net.ipv4.tcp_allowed_congestion_control
    // can be set inside a namespace (reno and bbr on the development machine; not cubic).
    await Promise.all([...t.hosts.keys()].map((h) => t.exec(h, 'sysctl', ['-q', '-w',
      `net.ipv4.tcp_congestion_control=${h === 'proxy' ? o.proxyCongestionControl : o.congestionControl}`])));
    // Everything starts at once; Node's start-up dominates a run's overhead otherwise.
    const alice = this.node('alice', './alice-server-main.js', [t.host('alice').address, String(o.fileBytes), 'paper']);
    this.aliceRole = alice;
    this.push = this.node('proxy', './push-main.js', []);
    for (const d of ['old', 'new'] as const) {
      if (t.hosts.has(d)) this.devices[d] = this.node(d, './device-main.js', []);
    }
    if (o.withProxy === false) {
      this.alice = { host: t.host('alice').address, port: Number((await alice.waitFor((e) => e.ev === 'listening', 'alice listening', 20_000)).port) };
      return;
    }
    // Bound the proxy's kernel buffers (see docs/evaluation/README.md).
    await t.exec('proxy', 'sysctl', ['-q', '-w', `net.ipv4.tcp_rmem=4096 ${Math.min(32768, o.proxyReceiveBuffer)} ${o.proxyReceiveBuffer}`,
      `net.ipv4.tcp_wmem=4096 16384 ${o.proxySocketBuffer}`, 'net.core.somaxconn=8192', 'net.ipv4.tcp_max_syn_backlog=8192',
      ...(o.proxyNotsentLowat ? [`net.ipv4.tcp_notsent_lowat=${o.proxyNotsentLowat}`] : [])]);
    const users = join(this.dir, 'users.json');
    writeFileSync(users, JSON.stringify({ [BOB]: { old: this.cred.old.token, new: this.cred.new.token }, [CAROL]: { bg: this.cred.bg.token } }));
    const addr = t.host('proxy').address;
    const args = o.proxyLauncher === 'lib'
      ? [here('./proxy-launcher-main.js'), `${addr}:0`, `${addr}:0`, users, String(o.proxyMaxBuffer)]
      : [CLI, 'proxy', '--listen', `${addr}:0`, '--control', `${addr}:0`, '--users', users, '--max-buffer', String(o.proxyMaxBuffer),
        ...(o.proxyWorkers && o.proxyWorkers > 1 ? ['--workers', String(o.proxyWorkers)] : [])];
    const proxyChild = t.spawn('proxy', process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'], maxOpenFiles: 65_536, niceness: BENCH_NICENESS, env: { ...process.env, TSMP_LOG: process.env.TSMP_LOG ?? 'warn' },
    });
    proxyChild.stderr?.on('data', (c: Buffer) => { this.proxyStderr = (this.proxyStderr + c.toString()).slice(-8192); });
    const [aliceUp, line] = await Promise.all([
      alice.waitFor((e) => e.ev === 'listening', 'alice listening', 20_000),
      firstLine(proxyChild, 30_000, () => this.proxyStderr),
    ]);
    this.alice = { host: t.host('alice').address, port: Number(aliceUp.port) };
    const m = /devices on ([\d.]+):(\d+), control API on https?:\/\/([\d.]+):(\d+)/.exec(line);
    if (!m) throw new BenchError(`unexpected proxy banner: ${line}`);
    this.proxy = { host: m[1]!, port: Number(m[2]) };
    this.control = { host: m[3]!, port: Number(m[4]) };
    if (o.background > 0) await this.startBackground();
  }

  private async startBackground(): Promise<void> {
    const t = this.topo;
    const server = this.node('bgs', './background-main.js', ['server', t.host('bgs').address, String(this.opts.backgroundBytesPerSec)], 65_536);
    const port = Number((await server.waitFor((e) => e.ev === 'listening', 'background server', 15_000)).port);
    this.bgClients = this.node('bgc', './background-main.js', ['clients'], 65_536);
    this.bgClients.send({ op: 'open', via: { ...this.proxy, ...this.cred.bg }, dest: `${t.host('bgs').address}:${port}`, count: this.opts.background, concurrency: 200 });
    const ready = await this.bgClients.waitFor((e) => e.ev === 'ready', 'background connections', 300_000);
    this.backgroundOpen = Number(ready.open);
    // A few failed set-ups under load are reported (the results carry the real count), not fatal.
    if (Number(ready.failed) > this.opts.background * 0.05) {
      throw new BenchError(`${String(ready.failed)} of ${this.opts.background} background connections failed`);
    }
  }

  via(device: 'old' | 'new'): { host: string; port: number; did: string; token: string } {
    return { ...this.proxy, ...this.cred[device] };
  }

  close(): void {
    this.topo.down();
    if (!process.env.TSMP_BENCH_KEEP) rmSync(this.dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${this.dir}\n`);
  }
}

async function firstLine(child: import('node:child_process').ChildProcess, timeoutMs: number, stderr: () => string): Promise<string> {
  // The proxy prints one human-readable banner line, not JSON.
  const { createInterface } = await import('node:readline');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchError(`tsmp proxy printed no banner within ${timeoutMs} ms`)), timeoutMs);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new BenchError(`tsmp proxy exited with ${code} at start: ${stderr().trim().slice(-800)}`));
    });
  });
}
