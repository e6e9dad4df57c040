import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { UsersFileAuthenticator } from '../../src/proxy/auth/users-file-authenticator.js';
import { Proxy } from '../../src/proxy/proxy.js';
import type { ProxyOptions } from '../../src/proxy/proxy-options.js';

export const UID = 'bob@example.org';
export const TOKENS = { phone: 'phone-token-1234567890', pc: 'pc-token-1234567890', tablet: 'tablet-token-1234567890' };
export const MALLORY = { uid: 'mallory@example.org', did: 'laptop.mallory@example.org', token: 'mallory-token-1234567890' };
export const did = (device: keyof typeof TOKENS) => `${device}.${UID}`;

export interface Harness {
  proxy: Proxy;
  port: number;
  controlUrl: string;
  api: (device: keyof typeof TOKENS | 'mallory', method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export async function startProxy(options: ProxyOptions = {}): Promise<Harness> {
  const authenticator = UsersFileAuthenticator.fromJson({
    [UID]: TOKENS,
    [MALLORY.uid]: { laptop: MALLORY.token },
  });
  const proxy = new Proxy(
    { listen: { host: '127.0.0.1', port: 0 }, control: { host: '127.0.0.1', port: 0 }, ...options },
    { authenticator },
  );
  const bound = await proxy.start();
  const controlUrl = `http://127.0.0.1:${bound.control!.port}`;
  const api: Harness['api'] = async (device, method, path, body) => {
    const cred = device === 'mallory' ? `${MALLORY.did}:${MALLORY.token}` : `${did(device)}:${TOKENS[device]}`;
    const res = await fetch(controlUrl + path, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(cred).toString('base64')}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  return { proxy, port: bound.listen.port, controlUrl, api, close: () => proxy.close() };
}

/** Reads a socket to its end, hashing and counting; `bytes()` is live. */
export function collect(socket: Socket): { bytes: () => number; hash: () => string; ended: Promise<void>; chunks: Buffer[] } {
  const hash = createHash('sha256');
  let n = 0;
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      chunks.push(d);
      n += d.length;
    });
    socket.on('end', resolve);
    socket.on('close', resolve);
    socket.on('error', () => resolve());
  });
  socket.resume();
  return { bytes: () => n, hash: () => hash.copy().digest('hex'), ended, chunks };
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
