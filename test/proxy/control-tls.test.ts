import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { did, startProxy, TOKENS } from '../support/proxy-harness.js';

describe('control API over HTTPS', () => {
  it('serves the API with --tls-cert/--tls-key to a client that trusts the CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsmp-tls-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      const cert = readFileSync(join(dir, 'cert.pem'));
      const harness = await startProxy({ tls: { cert, key: readFileSync(join(dir, 'key.pem')) } });
      try {
        const port = Number(new URL(harness.controlUrl).port);
        const get = (ca?: Buffer) =>
          new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = request(
              { host: '127.0.0.1', port, path: '/v1/connections', ca, auth: `${did('phone')}:${TOKENS.phone}` },
              (res) => {
                let body = '';
                res.on('data', (d) => (body += d));
                res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
              },
            );
            req.on('error', reject);
            req.end();
          });
        const ok = await get(cert);
        expect(ok.status).toBe(200);
        expect(JSON.parse(ok.body)).toEqual({ connections: [] });
        await expect(get(undefined)).rejects.toThrow(/self[- ]signed/i);
      } finally {
        await harness.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
