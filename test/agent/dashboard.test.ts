import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { UiServer } from '../../src/agent/ui/ui-server.js';
import { connectViaProxy } from '../../src/agent/proxy-client/connect-via-proxy.js';
import { payload, sha256 } from './helpers/sockets.js';
import { startSlowHttpServer } from './helpers/servers.js';
import { startStack, type Stack } from './helpers/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(import.meta.dirname, '../../docs/agent-dashboard.png');

let stack: Stack | undefined;
let context: BrowserContext | undefined;
let ui: UiServer | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  // Chromium first: it writes into its profile directory until it has exited.
  await context?.close();
  for (const c of cleanups.splice(0)) c();
  await ui?.close();
  await stack?.close();
  context = ui = stack = undefined;
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web dashboard', () => {
  it('refuses requests without the secret, with a foreign Host, and a non-loopback address', async () => {
    stack = await startStack(['phone']);
    const phone = await stack.agent('phone');
    ui = new UiServer(phone, { host: '127.0.0.1', port: 0 });
    const url = new URL(await ui.listen());
    const base = `http://${url.host}`;
    expect((await get(`${base}/api/state`)).status).toBe(401);
    expect((await get(`${base}/api/state?s=wrong`)).status).toBe(401);
    expect((await get(`${base}/api/state`, { authorization: `Bearer ${ui.secret}`, host: 'evil.example' })).status).toBe(421);
    const ok = await get(`${base}/api/state`, { authorization: `Bearer ${ui.secret}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).status.did).toBe(stack.devices.phone!.did);
    const login = await get(url.toString());
    expect(login.status).toBe(303);
    expect(String(login.headers['set-cookie'])).toContain('HttpOnly; SameSite=Strict');
    expect(() => new UiServer(phone, { host: '0.0.0.0', port: 0 })).toThrow(expect.objectContaining({ code: 'ERR_CONFIG' }));
  });

  it.skipIf(!existsSync(CHROMIUM))('shows devices and live connections in Chromium; "Move to…" really moves the download, byte-exact', async () => {
    stack = await startStack(['phone', 'pc']);
    const phone = await stack.agent('phone');
    const pc = await stack.agent('pc');
    await phone.heartbeatNow();
    // ~200 kB/s until the move, so the download is still running whatever Chromium's start-up time.
    const http = await startSlowHttpServer(payload(2 * 1024 * 1024), { chunk: 2048, intervalMs: 10 });
    cleanups.push(http.close);
    const dir = mkdtempSync(join(tmpdir(), 'tsmp-ui-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
    const tunnel = await connectViaProxy('127.0.0.1', http.port, { proxy: stack.proxyAddr.listen, did: stack.devices.phone!.did, token: stack.devices.phone!.token });
    const phoneGot: Buffer[] = [];
    tunnel.socket.on('data', (c: Buffer) => phoneGot.push(c));
    tunnel.socket.resume();
    tunnel.socket.write('GET /movie HTTP/1.0\r\n\r\n');
    cleanups.push(() => tunnel.socket.destroy());

    ui = new UiServer(phone, { host: '127.0.0.1', port: 0 });
    const url = await ui.listen();
    // A fresh profile per run (playwright passes it as --user-data-dir).
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1200, height: 900 },
    });
    const page = await context.newPage();
    await page.goto(url);
    expect(page.url()).not.toContain('s='); // the secret moved to a cookie
    await page.locator('[data-device="pc"]').waitFor({ timeout: 10_000 });
    const row = page.locator('#connections tr[data-connection]');
    await row.first().waitFor({ timeout: 10_000 });
    // Throughput shows up once two polls have seen the download grow.
    await page.locator('#connections tbody').filter({ hasText: /[kM]B\/s/ }).waitFor({ timeout: 10_000 });
    const target = join(dir, 'pc-rest.bin');
    await row.first().locator('button.move').click();
    await page.fill('#move-handler', `file:${target}`);
    await page.locator('[data-target="pc"]').click();
    await page.locator('#live-migration[data-state="done"]').waitFor({ timeout: 20_000 });
    const reached = await page.locator('#phases li.reached').count();
    expect(reached).toBeGreaterThanOrEqual(5);
    await page.locator('#migrations tr[data-migration]').first().waitFor();
    tunnel.socket.end();
    http.setChunk(256 * 1024);

    const deadline = Date.now() + 15_000;
    while (!pc.state.migrations.find((m) => m.state === 'handled') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pc.state.migrations[0]?.state).toBe('handled');
    const whole = Buffer.concat([...phoneGot, readFileSync(target)]);
    expect(sha256(whole)).toBe(sha256(http.response));
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});
