import { connect, type Socket } from 'node:net';

/**
 * A minimal SOCKS5 client for tests (RFC 1928 + RFC 1929), independent of the proxy's own codec
 * so that the tests do not trust the code they test. Resolves with the socket positioned at the
 * first tunnel byte, and the REP code; rejects when the proxy refuses.
 */
export async function socksConnect(
  proxyPort: number,
  user: string,
  pass: string,
  host: string,
  port: number,
  proxyHost = '127.0.0.1',
): Promise<{ socket: Socket; rep: number }> {
  const socket = connect(proxyPort, proxyHost);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffered = Buffer.alloc(0);
  const read = (n: number) =>
    new Promise<Buffer>((resolve, reject) => {
      const tryTake = () => {
        if (buffered.length >= n) {
          const out = buffered.subarray(0, n);
          buffered = buffered.subarray(n);
          socket.off('data', onData);
          socket.off('close', onClose);
          socket.pause();
          resolve(out);
          return true;
        }
        return false;
      };
      const onData = (d: Buffer) => {
        buffered = Buffer.concat([buffered, d]);
        tryTake();
      };
      const onClose = () => reject(new Error(`proxy closed during handshake (${buffered.length}/${n} bytes)`));
      if (tryTake()) return;
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.resume();
    });
  socket.write(Buffer.from([5, 1, 2]));
  const method = await read(2);
  if (method[1] !== 2) throw new Error(`proxy chose method ${method[1]}`);
  const u = Buffer.from(user);
  const p = Buffer.from(pass);
  socket.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
  const auth = await read(2);
  if (auth[1] !== 0) {
    socket.destroy();
    throw Object.assign(new Error('authentication failed'), { authStatus: auth[1] });
  }
  const h = Buffer.from(host);
  const req = Buffer.concat([Buffer.from([5, 1, 0, 3, h.length]), h, Buffer.from([port >> 8, port & 255])]);
  socket.write(req);
  const head = await read(5);
  const rep = head[1]!;
  const atyp = head[3]!;
  const rest = atyp === 1 ? 4 + 2 - 1 : atyp === 4 ? 16 + 2 - 1 : head[4]! + 2;
  await read(rest);
  if (rep !== 0) {
    socket.destroy();
    throw Object.assign(new Error(`proxy replied ${rep}`), { rep });
  }
  if (buffered.length > 0) socket.unshift(buffered);
  return { socket, rep };
}
