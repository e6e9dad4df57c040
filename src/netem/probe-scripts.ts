import { createCipheriv, createHash } from 'node:crypto';

/**
 * Small TCP probes run inside namespaces as inline ES-module source (`node -e`), so tests and the
 * accuracy tool need no build step. Every probe prints one JSON line on stdout per event.
 *
 * Payloads are a deterministic stream: AES-128-CTR over zeros, keyed by a seed, so the sending
 * side, the receiving side and the test can each compute the SHA-256 of the same bytes.
 */
const PAYLOAD_JS = `
import { createCipheriv, createHash } from 'node:crypto';
function payload(seed, n) {
  const key = createHash('sha256').update('tsmp-netem:' + seed).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return c.update(Buffer.alloc(n));
}
`;

/** The SHA-256 (hex) of the `n`-byte payload for `seed`, computed in-process. */
export function payloadSha256(seed: string, n: number): string {
  return createHash('sha256').update(payloadBytes(seed, n)).digest('hex');
}

export function payloadBytes(seed: string, n: number): Buffer {
  const key = createHash('sha256').update('tsmp-netem:' + seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/**
 * `server ADDRESS`: listens on ADDRESS port 0, prints `{"port"}`. Per connection the first line
 * picks the mode: `SEND n seed` sends the payload and ends; `RECV` hashes everything until the
 * peer ends, then answers `{"sha256","bytes"}`. A connection that sends nothing is an RTT probe.
 */
export const PROBE_SERVER_JS = `${PAYLOAD_JS}
import net from 'node:net';
const [address] = process.argv.slice(1);
const server = net.createServer((sock) => {
  sock.on('error', () => {});
  let head = Buffer.alloc(0);
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const nl = head.indexOf(10);
    if (nl < 0) { if (head.length > 256) sock.destroy(); return; }
    sock.off('data', onData);
    const [mode, n, seed] = head.subarray(0, nl).toString().split(' ');
    const rest = head.subarray(nl + 1);
    if (mode === 'SEND') { sock.end(payload(seed, Number(n))); return; }
    const h = createHash('sha256').update(rest);
    let bytes = rest.length;
    sock.on('data', (c) => { h.update(c); bytes += c.length; });
    sock.on('end', () => sock.end(JSON.stringify({ sha256: h.digest('hex'), bytes }) + '\\n'));
  };
  sock.on('data', onData);
});
server.listen(0, address, () => console.log(JSON.stringify({ port: server.address().port })));
`;

/**
 * \`client MODE HOST PORT ...\`:
 * - \`rtt HOST PORT COUNT\`: COUNT sequential connects; prints \`{"rttMs":[...]}\` (SYN → SYN/ACK).
 * - \`download HOST PORT N SEED\`: prints \`{"sha256","bytes","firstByteMs","halfByteMs","lastByteMs"}\`,
 *   times measured from the request (half: when half of the bytes had arrived).
 * - \`upload HOST PORT N SEED\`: prints the server's \`{"sha256","bytes"}\` and \`{"elapsedMs"}\`.
 */
export const PROBE_CLIENT_JS = `${PAYLOAD_JS}
import net from 'node:net';
import { performance } from 'node:perf_hooks';
const [mode, host, portText, a, b] = process.argv.slice(1);
const port = Number(portText);
const out = (o) => console.log(JSON.stringify(o));
const fail = (e) => { console.error(String(e)); process.exit(1); };
if (mode === 'rtt') {
  const rttMs = [];
  for (let i = 0; i < Number(a); i++) {
    rttMs.push(await new Promise((res, rej) => {
      const t0 = performance.now();
      const s = net.connect(port, host, () => { const t = performance.now() - t0; s.destroy(); res(t); });
      s.on('error', rej);
    }).catch(fail));
  }
  out({ rttMs });
} else if (mode === 'download') {
  const s = net.connect(port, host);
  const h = createHash('sha256');
  let bytes = 0, t0 = 0, first = -1, last = 0, half = -1;
  s.on('connect', () => { t0 = performance.now(); s.write('SEND ' + a + ' ' + b + '\\n'); });
  s.on('data', (c) => {
    const t = performance.now(); if (first < 0) first = t - t0; last = t - t0; h.update(c); bytes += c.length;
    if (half < 0 && bytes * 2 >= Number(a)) half = t - t0;
  });
  s.on('end', () => out({ sha256: h.digest('hex'), bytes, firstByteMs: first, halfByteMs: half, lastByteMs: last }));
  s.on('error', fail);
} else if (mode === 'upload') {
  const s = net.connect(port, host);
  let t0 = 0, reply = '';
  s.on('connect', () => { t0 = performance.now(); s.write('RECV\\n'); s.end(payload(b, Number(a))); });
  s.on('data', (c) => { reply += c; });
  s.on('end', () => { out(JSON.parse(reply)); out({ elapsedMs: performance.now() - t0 }); });
  s.on('error', fail);
} else fail('unknown mode ' + mode);
`;
