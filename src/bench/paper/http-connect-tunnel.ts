import net from 'node:net';
import { BenchError } from './bench-error.js';

export interface ProxyCredentials {
  host: string;
  port: number;
  did: string;
  token: string;
}

/**
 * Opens a TCP tunnel through the proxy with HTTP CONNECT (RFC 9110 §9.3.6), authenticated with
 * Basic credentials `DID:token` (docs/CONTRACTS.md). Resolves once the 200 reply's head is read;
 * any bytes after the head are handed back, since they are the first bytes of the stream.
 */
export function connectTunnel(proxy: ProxyCredentials, dest: string, timeoutMs = 30_000, onSocket?: (s: net.Socket) => void): Promise<{ socket: net.Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxy.port, proxy.host);
    onSocket?.(socket);
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BenchError(`CONNECT ${dest} via ${proxy.host}:${proxy.port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const auth = Buffer.from(`${proxy.did}:${proxy.token}`).toString('base64');
    socket.once('connect', () => {
      socket.write(`CONNECT ${dest} HTTP/1.1\r\nHost: ${dest}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
    });
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) onError(new BenchError('CONNECT reply head too long'));
        return;
      }
      socket.off('data', onData);
      socket.off('error', onError);
      clearTimeout(timer);
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      if (!/^HTTP\/1\.[01] 200/.test(status)) {
        socket.destroy();
        reject(new BenchError(`CONNECT ${dest} refused: ${status}`));
        return;
      }
      socket.pause();
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.on('data', onData);
    socket.once('error', onError);
  });
}
