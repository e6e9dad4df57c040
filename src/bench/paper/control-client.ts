import http from 'node:http';
import { BenchError } from './bench-error.js';

/** A call to the proxy's control API (docs/CONTRACTS.md), as device `did`. */
export function controlRequest<T>(
  control: { host: string; port: number },
  cred: { did: string; token: string },
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      host: control.host, port: control.port, method, path, timeout: timeoutMs, agent: keepAlive,
      auth: `${cred.did}:${cred.token}`,
      headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (text.length < 1 << 20) text += c; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : null) as T });
        } catch (err) {
          reject(new BenchError(`control ${method} ${path}: not JSON (${res.statusCode})`, { cause: err }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new BenchError(`control ${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** One kept-alive connection per role process: a poll every few ms must not cost a handshake. */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 2 });
