import net from 'node:net';
import { payloadBytes } from '../../netem/probe-scripts.js';
import { emit } from './role-io.js';
import { responseHead } from './http-file.js';

/**
 * Alice's server: serves `GET /file` (the paper's 0.8 MB transfer) with `Range: bytes=N-` for
 * the re-download alternative. Written on plain sockets so that the response head is exactly
 * known (no Date header): the bench checks the devices' concatenated bytes against it.
 * argv: ADDRESS SIZE SEED. Prints `{"ev":"listening","port"}`.
 */
const [address = '127.0.0.1', sizeText = '800000', seed = 'paper'] = process.argv.slice(2);
const body = payloadBytes(seed, Number(sizeText));

const server = net.createServer((sock) => {
  sock.on('error', () => {});
  let head = '';
  const onData = (chunk: Buffer): void => {
    head += chunk.toString('latin1');
    if (head.length > 8192) return void sock.destroy();
    if (!head.includes('\r\n\r\n')) return;
    sock.off('data', onData);
    const range = /^range:\s*bytes=(\d+)-\s*$/im.exec(head);
    const from = range ? Math.min(Number(range[1]), body.length) : 0;
    if (!/^GET \/file /.test(head)) return void sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    sock.write(responseHead(body.length, from));
    sock.end(body.subarray(from));
    sock.resume();
  };
  sock.on('data', onData);
});
server.listen(0, address, () => emit('listening', { port: (server.address() as net.AddressInfo).port }));
