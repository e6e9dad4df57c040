import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
const isRoot = process.getuid?.() === 0;
const id = process.pid % 10_000;
const NS_A = `tsmpA${id}`;
const NS_B = `tsmpB${id}`;
// Namespaces are isolated, so this /24 of 198.18.0.0/15 (RFC 2544) only has to be unique per run.
const NET = `198.18.${(process.pid % 250) + 1}`;
const ADDR_A = `${NET}.1`;
const ADDR_B = `${NET}.2`;

const children: ChildProcess[] = [];
let dir: string | undefined;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function cleanup(): void {
  for (const c of children) c.kill('SIGKILL');
  for (const ns of [NS_A, NS_B]) {
    try {
      ip('netns', 'del', ns); // deleting a namespace deletes its end of the veth pair, and so the pair
    } catch {
      // not created
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Runs the CLI inside a namespace; resolves with stdout when it exits 0. */
function tsmp(ns: string, args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { env: { ...process.env, TSMP_LOG: 'warn', ...env } });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`tsmp ${args.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** Starts the name server in namespace A and resolves with its URL. */
function startNameServer(db: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('ip', ['netns', 'exec', NS_A, process.execPath, CLI, 'nameserver', '--listen', `${ADDR_A}:0`, '--db', db, '--rate-limit', '1000'], {
      env: { ...process.env, TSMP_LOG: 'warn' },
    });
    children.push(child);
    const timer = setTimeout(() => reject(new Error('name server did not start')), 15_000);
    child.stdout.on('data', (c: Buffer) => {
      const m = /listening on (\S+)/.exec(c.toString());
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]!);
      }
    });
  });
}

afterAll(cleanup);

describe('LAN rendezvous in two network namespaces joined by veth', () => {
  it.skipIf(!isRoot || !existsSync(CLI))(
    'a new device found over mDNS (_tsmp._tcp) is paired with the same 6-digit code on both sides (skipped unless root and built)',
    async () => {
      try {
        ip('netns', 'add', NS_A);
        ip('netns', 'add', NS_B);
        ip('link', 'add', `tva${id}`, 'netns', NS_A, 'type', 'veth', 'peer', 'name', `tvb${id}`, 'netns', NS_B);
        for (const [ns, dev, addr] of [
          [NS_A, `tva${id}`, ADDR_A],
          [NS_B, `tvb${id}`, ADDR_B],
        ] as const) {
          ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev);
          ip('-n', ns, 'link', 'set', dev, 'up');
          ip('-n', ns, 'link', 'set', 'lo', 'up');
          // mDNS goes to 224.0.0.251; without a route the kernel has nowhere to send it.
          ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev);
        }
        dir = mkdtempSync(join(tmpdir(), 'tsmp-lan-'));
        const url = await startNameServer(join(dir, 'names.db'));
        const pw = { TSMP_PASSWORD: 'correct horse battery' };
        await tsmp(NS_A, ['user', 'add', 'bob@example.org', '--nameserver', url], pw);
        const homeA = join(dir, 'phone');
        const homeB = join(dir, 'laptop');
        await tsmp(NS_A, ['device', 'register', 'phone', '--user', 'bob@example.org', '--nameserver', url, '--home', homeA, '--proxy', `${ADDR_A}:1080`], pw);

        const newcomer = tsmp(NS_B, ['pair', '--name', 'laptop', '--yes', '--json', '--home', homeB, '--interface', ADDR_B, '--listen', ADDR_B, '--timeout', '20000']);
        const introducer = tsmp(NS_A, ['pair', 'laptop', '--yes', '--json', '--home', homeA, '--interface', ADDR_A, '--timeout', '20000']);
        const [b, a] = await Promise.all([newcomer, introducer]);
        const fromB = JSON.parse(b) as { did: string; code: string };
        const fromA = JSON.parse(a) as { paired: string; code: string };
        expect(fromB.did).toBe('laptop.bob@example.org');
        expect(fromA.paired).toBe('laptop.bob@example.org');
        expect(fromA.code).toMatch(/^\d{3} \d{3}$/);
        expect(fromB.code).toBe(fromA.code);
        expect(statSync(join(homeB, 'credentials.json')).mode & 0o777).toBe(0o600);
        // The new device's credentials work: it lists its user's devices from its own namespace.
        const listed = JSON.parse(await tsmp(NS_B, ['devices', '--home', homeB, '--json'])) as { devices: Array<{ did: string }> };
        expect(listed.devices.map((d) => d.did).sort()).toEqual(['laptop.bob@example.org', 'phone.bob@example.org']);

        // Running agents with --lan see each other as the same user's devices.
        for (const [ns, home] of [
          [NS_A, homeA],
          [NS_B, homeB],
        ] as const) {
          const agent = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, 'agent', '--lan', '--home', home, '--ui', '127.0.0.1:0', '--json'], {
            env: { ...process.env, TSMP_LOG: 'silent' },
          });
          children.push(agent);
          await new Promise((r) => agent.stdout.once('data', r));
        }
        const deadline = Date.now() + 15_000;
        let lan: Array<{ device: string; addresses: string[] }> = [];
        while (Date.now() < deadline && !lan.length) {
          lan = (JSON.parse(await tsmp(NS_B, ['status', '--home', homeB, '--json'])) as { lan: typeof lan }).lan;
        }
        expect(lan).toEqual([{ device: 'phone', addresses: [ADDR_A] }]);
      } finally {
        cleanup();
      }
    },
    60_000,
  );
});
