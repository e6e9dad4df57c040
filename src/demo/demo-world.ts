import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectViaProxy } from '../agent/proxy-client/connect-via-proxy.js';
import { UsersFileAuthenticator } from '../proxy/auth/users-file-authenticator.js';
import { Proxy } from '../proxy/proxy.js';
import type { MigrationView } from './narrator.js';

export type DeviceName = 'phone' | 'pc';

/**
 * The demo's world on embedded defaults: a proxy on loopback (ephemeral ports), Bob's two
 * devices with fresh tokens, and a scratch directory that is removed at the end.
 */
export class DemoWorld {
  readonly uid = 'bob@example.org';
  readonly tokens: Record<DeviceName, string> = { phone: randomBytes(12).toString('hex'), pc: randomBytes(12).toString('hex') };
  readonly dir = mkdtempSync(join(tmpdir(), 'tsmp-demo-'));
  proxy!: Proxy;
  proxyPort = 0;
  controlUrl = '';

  async start(): Promise<void> {
    this.proxy = new Proxy(
      { listen: { host: '127.0.0.1', port: 0 }, control: { host: '127.0.0.1', port: 0 }, migrationTimeoutMs: 10_000 },
      { authenticator: UsersFileAuthenticator.fromJson({ [this.uid]: this.tokens }) },
    );
    const bound = await this.proxy.start();
    this.proxyPort = bound.listen.port;
    this.controlUrl = `http://127.0.0.1:${bound.control!.port}`;
  }

  did(device: DeviceName): string {
    return `${device}.${this.uid}`;
  }

  /** A tunnel through the proxy, authenticated as `device`. */
  tunnel(device: DeviceName, host: string, port: number) {
    return connectViaProxy(host, port, { proxy: { host: '127.0.0.1', port: this.proxyPort }, did: this.did(device), token: this.tokens[device] });
  }

  /** A control API call made by `device`. */
  async api<T = any>(device: DeviceName, method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.controlUrl + path, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${this.did(device)}:${this.tokens[device]}`).toString('base64')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as T & { error?: { message: string } };
    if (!res.ok) throw new Error(`control API ${method} ${path}: ${json.error?.message ?? res.status}`);
    return json;
  }

  /** Polls a migration until it is finished; every wait has a bound. */
  async migrationResult(device: DeviceName, id: string, timeoutMs = 15_000): Promise<MigrationView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.api<MigrationView>(device, 'GET', `/v1/migrations/${id}`);
      if (['done', 'rolled-back', 'failed'].includes(m.state)) return m;
      if (Date.now() > deadline) throw new Error(`migration ${id} still ${m.state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await this.proxy?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
