/** The compiled CLI's name-server commands against a server on 127.0.0.1 (needs npm run build). */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NameServer } from '../../src/names/name-server.js';
import { NameServerClient } from '../../src/names/client/name-server-client.js';
import { PASSWORD, startTestServer } from './helpers.js';

const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');
const exec = promisify(execFile);
let server: NameServer;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  server = await startTestServer();
});
afterAll(async () => server.close());

async function tsmp(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [MAIN, ...args], { env: { ...process.env, TSMP_SERVICE_KEY: '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('tsmp user/device/resolve/devices', () => {
  it('registers, adds a device, resolves it and lists devices, with --json', async () => {
    const ns = ['--nameserver', server.url];
    const pw = { TSMP_PASSWORD: PASSWORD };
    expect(await tsmp(['user', 'add', 'cli@example.org', ...ns], pw)).toMatchObject({ code: 0, stdout: 'user cli@example.org registered\n' });
    const added = await tsmp(['device', 'add', 'phone', '--user', 'cli@example.org', ...ns, '--json'], pw);
    expect(added.code).toBe(0);
    const { did, token } = JSON.parse(added.stdout) as { did: string; token: string };
    expect(did).toBe('phone.cli@example.org');
    expect(await new NameServerClient({ url: server.url }).verifyDevice(did, token)).not.toBeNull();

    await new NameServerClient({ url: server.url, auth: { did, token } }).heartbeat({ coa: '198.18.4.4:44', groupModified: 0 });
    const resolved = await tsmp(['resolve', did, ...ns, '--json'], pw);
    const r = JSON.parse(resolved.stdout);
    expect(Object.keys(r).sort()).toEqual(['agent', 'coa', 'did', 'lastSeen', 'status']);
    expect(r).toMatchObject({ did, status: 'online', coa: '198.18.4.4:44' });
    // As the device itself, with its token.
    expect(JSON.parse((await tsmp(['resolve', did, '--as', did, ...ns, '--json'], { TSMP_TOKEN: token })).stdout).coa).toBe('198.18.4.4:44');

    const list = JSON.parse((await tsmp(['devices', '--user', 'cli@example.org', ...ns, '--json'], pw)).stdout);
    expect(list.map((d: { did: string; status: string }) => [d.did, d.status])).toEqual([[did, 'online']]);
    const text = await tsmp(['devices', '--user', 'cli@example.org', ...ns], pw);
    expect(text.stdout).toMatch(/^phone\.cli@example\.org\tonline\t198\.18\.4\.4:44\t\d{4}-/);
  });

  it('fails with one clear line and a non-zero exit', async () => {
    const bad = await tsmp(['devices', '--user', 'cli@example.org', '--nameserver', server.url], { TSMP_PASSWORD: 'wrong password' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toEqual(['tsmp: invalid credentials [ERR_UNAUTHORIZED]']);
    const dup = await tsmp(['device', 'add', 'phone', '--user', 'cli@example.org', '--nameserver', server.url], { TSMP_PASSWORD: PASSWORD });
    expect(dup.stderr).toMatch(/already exists \[ERR_CONFLICT\]/);
  });
});
