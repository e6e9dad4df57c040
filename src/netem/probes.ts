import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { TimeoutError } from '../common/errors.js';
import { NetemCommandError, NetemConfigError } from './errors.js';
import { PROBE_CLIENT_JS, PROBE_SERVER_JS } from './probe-scripts.js';
import { spawnNodeCode } from './ns-process.js';
import type { Topology } from './topology.js';

/** Collects a child's stdout JSON lines until it exits; rejects on non-zero exit or timeout. */
export function collectJsonLines(child: ChildProcess, what: string, timeoutMs: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const lines: unknown[] = [];
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new TimeoutError(what, timeoutMs));
    }, timeoutMs);
    child.stderr?.on('data', (c: Buffer) => { if (stderr.length < 4096) stderr += c.toString(); });
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        lines.push(JSON.parse(l));
      } catch {
        // Not ours (a warning); ignore.
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(lines);
      else reject(new NetemCommandError(what, stderr || `exit ${code}`));
    });
  });
}

/** Resolves with the first JSON line a long-running child prints, e.g. its `{"port"}`. */
export function firstJsonLine<T>(child: ChildProcess, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new TimeoutError(what, timeoutMs)), timeoutMs);
    child.stderr?.on('data', (c: Buffer) => { if (stderr.length < 4096) stderr += c.toString(); });
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(l) as T);
      } catch (err) {
        reject(new NetemCommandError(what, `not JSON: ${l}`, { cause: err }));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new NetemCommandError(what, stderr || `exited with ${code} before reporting`));
    });
  });
}

/** Starts the probe server on `host`; it lives until the topology goes down. */
export async function startProbeServer(topo: Topology, host: string, timeoutMs = 10_000): Promise<{ port: number; child: ChildProcess }> {
  const h = topo.host(host);
  const child = topo.spawn(host, process.execPath, ['--input-type=module', '-e', PROBE_SERVER_JS, '--', h.address]);
  const { port } = await firstJsonLine<{ port: number }>(child, `probe server on ${host}`, timeoutMs);
  return { port, child };
}

/** Runs one probe client on `host` and returns its JSON lines. */
export function runProbeClient(topo: Topology, host: string, args: readonly string[], timeoutMs: number): Promise<unknown[]> {
  const child = spawnNodeCode(topo.host(host).ns, PROBE_CLIENT_JS, args);
  return collectJsonLines(child, `probe client ${args[0]} on ${host}`, timeoutMs);
}

/** TCP connect times (SYN → SYN/ACK) from `from` to the probe server on `to`, ms. */
export async function measureConnectRtt(topo: Topology, from: string, to: string, port: number, count: number, timeoutMs = 60_000): Promise<number[]> {
  const [res] = await runProbeClient(topo, from, ['rtt', topo.host(to).address, String(port), String(count)], timeoutMs);
  return (res as { rttMs: number[] }).rttMs;
}

export interface DownloadResult {
  sha256: string;
  bytes: number;
  firstByteMs: number;
  /** When half of the bytes had arrived: the second half measures the rate past slow start. */
  halfByteMs: number;
  lastByteMs: number;
}

/** Seeds travel in a space-separated request line. */
function checkSeed(seed: string): void {
  if (!/^[\w.-]{1,64}$/.test(seed)) throw new NetemConfigError(`probe seed "${seed}" must be 1-64 of [A-Za-z0-9_.-]`);
}

export async function download(topo: Topology, from: string, to: string, port: number, bytes: number, seed: string, timeoutMs = 60_000): Promise<DownloadResult> {
  checkSeed(seed);
  const [res] = await runProbeClient(topo, from, ['download', topo.host(to).address, String(port), String(bytes), seed], timeoutMs);
  return res as DownloadResult;
}

export async function upload(topo: Topology, from: string, to: string, port: number, bytes: number, seed: string, timeoutMs = 60_000): Promise<{ sha256: string; bytes: number; elapsedMs: number }> {
  checkSeed(seed);
  const lines = await runProbeClient(topo, from, ['upload', topo.host(to).address, String(port), String(bytes), seed], timeoutMs);
  const hash = lines[0] as { sha256: string; bytes: number };
  const t = lines[1] as { elapsedMs: number };
  return { ...hash, elapsedMs: t.elapsedMs };
}
