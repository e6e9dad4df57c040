import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectViaProxy } from '../agent/proxy-client/connect-via-proxy.js';
import { expectedStreamHash } from '../mtcp/examples/stream-protocol.js';
import { runDegradingScenario } from '../mtcp/examples/degrading-scenario.js';
import { UsersFileAuthenticator } from '../proxy/auth/users-file-authenticator.js';
import { Proxy } from '../proxy/proxy.js';
import { loadPoolFileForProxy } from '../proxy/upstream/mtcp-pools.js';

const UID = 'alice@example.org';
const DEVICE = `laptop.${UID}`;
const TOKEN = randomBytes(16).toString('hex');
const RATE = 1_000_000; // bytes/s per member: the stream lasts long enough to act mid-way
const LENGTH = 2_000_000;
const WATCHDOG_MS = 60_000;

/**
 * `tsmp demo mtcp`: the M-TCP paper's streaming application with a legacy client (issue 5).
 * - A pool of 3 `tsmp example stream-server` processes with eager push (a member's death is
 *   survivable only with eager transfer).
 * - A tsmp proxy (in this process) configured with the pool: it is the client-side M-TCP endpoint.
 * - A legacy client: plain SOCKS5 to the proxy, then `STREAM <seed> <length>\n` over plain TCP;
 *   it contains no M-TCP code.
 * The demo migrates the server on demand through the control API, then SIGKILLs the serving
 * member at a random moment, and checks the client's bytes against the expected SHA-256 sequence.
 * Then the degrading-server comparison (policy off and on). Resolves true when every check held.
 */
export async function runMtcpDemo(out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<boolean> {
  process.env.TSMP_LOG ??= 'error';
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'tsmp-demo-mtcp-'));
  const members = new Map<string, ChildProcess>();
  let proxy: Proxy | undefined;
  let client: Socket | undefined;
  const checks: boolean[] = [];
  const check = (ok: boolean, text: string): boolean => {
    out(`   ${ok ? '✔' : '✘'} ${text}`);
    checks.push(ok);
    return ok;
  };
  const watchdog = setTimeout(() => {
    out(`   ✘ the demo did not finish within ${WATCHDOG_MS / 1000} s`);
    for (const c of members.values()) c.kill('SIGKILL');
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    out('tsmp demo mtcp — a legacy client streams from a pool of servers through the tsmp proxy (Migratory TCP)');

    out('\n1. Pool of 3 sample stream servers (separate processes, eager push store)');
    const ports = await Promise.all([0, 1, 2].map(() => freePort()));
    const poolFile = join(dir, 'pool.json');
    const pool = { key: randomBytes(24).toString('hex'), members: ports.map((p, i) => ({ id: `s${i + 1}`, address: `127.0.0.1:${p}` })), store: 'push' };
    writeFileSync(poolFile, JSON.stringify(pool));
    const cli = cliEntry();
    await Promise.all(pool.members.map(async (m) => members.set(m.id, await startMember(cli, poolFile, m.id))));
    for (const m of pool.members) out(`   ${m.id}  ${m.address}  pid ${members.get(m.id)!.pid}   tsmp example stream-server --pool pool.json --id ${m.id} --rate ${RATE}`);

    out('\n2. tsmp proxy with the pool configured (--mtcp-pool-file pool.json: only member addresses are used)');
    proxy = new Proxy(
      { listen: { host: '127.0.0.1', port: 0 }, control: { host: '127.0.0.1', port: 0 }, mtcp: { pools: [loadPoolFileForProxy(poolFile)], silenceTimeoutMs: 2000 } },
      { authenticator: UsersFileAuthenticator.fromJson({ [UID]: { laptop: TOKEN } }) },
    );
    const bound = await proxy.start();
    const controlUrl = `http://127.0.0.1:${bound.control!.port}`;
    const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(controlUrl + path, {
        method,
        headers: { authorization: `Basic ${Buffer.from(`${DEVICE}:${TOKEN}`).toString('base64')}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: await res.json() };
    };
    out(`   SOCKS5 127.0.0.1:${bound.listen.port}, control API ${controlUrl}`);

    out(`\n3. Legacy client: SOCKS5 to the proxy, CONNECT ${pool.members[0]!.address}, then "STREAM demo ${LENGTH}"`);
    const tunnel = await connectViaProxy('127.0.0.1', ports[0]!, { proxy: { host: '127.0.0.1', port: bound.listen.port }, did: DEVICE, token: TOKEN });
    client = tunnel.socket;
    const hash = createHash('sha256');
    let got = 0;
    const finished = new Promise<void>((resolve, reject) => {
      client!.on('data', (c: Buffer) => {
        hash.update(c);
        got += c.length;
        if (got >= LENGTH) resolve();
      });
      client!.on('error', reject);
      client!.on('close', () => (got < LENGTH ? reject(new Error(`the stream ended after ${got} bytes`)) : resolve()));
    });
    finished.catch(() => {});
    client.write(`STREAM demo ${LENGTH}\n`);
    client.resume();
    await waitFor(() => got > 300_000, 10_000, 'the first bytes');
    const conn = ((await api('GET', '/v1/connections')).json.connections as any[])[0];
    check(conn?.mtcp?.member === 's1', `GET /v1/connections: connection ${conn?.id} is M-TCP (cid ${conn?.mtcp?.cid}), served by ${conn?.mtcp?.member}`);

    out(`\n4. On demand: POST /v1/connections/${conn.id}/migrate-server {"to":"s2"} at byte ${got}`);
    const started202 = await api('POST', `/v1/connections/${conn.id}/migrate-server`, { to: 's2' });
    check(started202.status === 202, `202 with migration ${started202.json.id} (state ${started202.json.state})`);
    const demand = await waitMigration(api, started202.json.id);
    printRecord(out, demand);
    check(demand.state === 'done' && demand.to === 's2', `GET /v1/migrations/${demand.id}: ${demand.state}, now on ${demand.to}`);

    const killAfter = 150 + Math.floor(Math.random() * 600);
    await sleep(killAfter);
    const serving = (await api('GET', `/v1/connections/${conn.id}`)).json.mtcp.member as string;
    out(`\n5. Failure: SIGKILL the serving member ${serving} (pid ${members.get(serving)!.pid}) at a random moment, byte ${got}`);
    const victim = members.get(serving)!;
    victim.kill('SIGKILL');
    await finished;
    const all = ((await api('GET', '/v1/migrations')).json.migrations as any[]).filter((m) => m.connection === conn.id && m.trigger === 'failure');
    for (const m of all) printRecord(out, m);
    check(all.length > 0 && all.every((m) => m.state === 'done' && m.transfer?.source === 'store'), `the proxy migrated by itself (trigger failure: ${all.map((m) => m.reason).join(', ') || 'none'}), state from the push store`);

    out('\n6. What the legacy client received');
    const digest = hash.digest('hex');
    check(got === LENGTH, `${got} bytes, ${LENGTH} expected`);
    check(digest === expectedStreamHash('demo', LENGTH), `SHA-256 ${digest.slice(0, 16)}… equals SHA-256 of SHA-256("demo:0") ‖ SHA-256("demo:1") ‖ … truncated to ${LENGTH}`);
    const metrics = await (await fetch(`${controlUrl}/metrics`)).text();
    const counted = metrics.split('\n').filter((l) => l.startsWith('tsmp_proxy_server_migrations_total') && /outcome="done"/.test(l) && !l.endsWith(' 0'));
    check(counted.length > 0, `/metrics: ${counted.join(', ')}`);
    client.end();

    out('\n7. Degrading servers: each member slows down the longer it serves (kit client, policy off vs on)');
    const off = await runDegradingScenario({ policy: false });
    const on = await runDegradingScenario({ policy: true });
    const kB = (x: number): string => `${(x / 1000).toFixed(0)} kB/s`;
    out(`   policy off: ${kB(off.throughput)} (one member's profile mean over the run: ${kB(off.profileMeanOverRun)})`);
    out(`   policy on (migrate below 60% of the best seen): ${kB(on.throughput)}, ${on.migrations} migrations (profile mean between migrations: ${kB(on.profileMeanBetweenMigrations)}; peak ${kB(on.peak)})`);
    check(on.throughput > off.throughput, 'migration by policy keeps the client-perceived throughput above a single degrading member');

    const ok = checks.every(Boolean);
    out(`\n${ok ? 'All checks held' : 'Some checks FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s).`);
    return ok;
  } catch (err) {
    out(`   ✘ demo aborted: ${(err as Error).message}`);
    return false;
  } finally {
    clearTimeout(watchdog);
    client?.destroy();
    await proxy?.close();
    await Promise.all([...members.values()].map((c) => stopChild(c)));
    rmSync(dir, { recursive: true, force: true });
  }
}

function printRecord(out: (l: string) => void, m: any): void {
  const t0 = m.phases.requested as number;
  const at = (k: string): string => (m.phases[k] === undefined ? '' : `+${(m.phases[k] - t0).toFixed(1)} ms`);
  out(`   migration ${m.id} (${m.trigger}${m.reason ? `: ${m.reason}` : ''}) ${m.from} → ${m.to}: ${m.state}`);
  out(`      detached ${at('detached')}, TCP to the new member ${at('connected')}, resumed ${at('resumed')}, first byte ${at('firstByte')}`);
  out(`      state transfer: ${m.transfer?.source} in ${m.transfer?.ms?.toFixed?.(1)} ms; stream resumed at byte ${m.outOffset}; attempts ${m.attempts.map((a: any) => `${a.member}:${a.ok ? 'ok' : a.error?.code}`).join(' ')}`);
}

async function waitMigration(api: (m: string, p: string) => Promise<{ json: any }>, id: string): Promise<any> {
  let m: any;
  await waitFor(async () => {
    m = (await api('GET', `/v1/migrations/${id}`)).json;
    return m.state === 'done' || m.state === 'failed';
  }, 10_000, `migration ${id}`);
  return m;
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The built CLI (`dist/cli/main.js`), also when this module runs from the sources (tests). */
function cliEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, '../cli/main.js');
  if (existsSync(beside)) return beside;
  const built = join(here, '../../dist/cli/main.js');
  if (existsSync(built)) return built;
  throw new Error('the demo starts pool members with the built CLI: run `npm run build` first');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `tsmp example stream-server` as a child process; resolves on its "listening" line (bounded). */
function startMember(cli: string, poolFile: string, id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, 'example', 'stream-server', '--pool', poolFile, '--id', id, '--rate', String(RATE)], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, TSMP_LOG: 'silent' },
  });
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`member ${id} did not start within 20 s`));
    }, 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('listening')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`member ${id} exited with ${code} before listening`));
    });
  });
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}
