import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * A request/response server: each line `n` it receives is answered with `n:<n*n>`. It records
 * every request line in arrival order, so a test can check the server saw them in order, once.
 */
export async function startLineServer(): Promise<{ port: number; received: string[]; halfClosed: () => boolean; close(): Promise<void>; server: Server }> {
  const received: string[] = [];
  let sawFin = false;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        received.push(line);
        const n = Number(line);
        socket.write(`${line}:${n * n}\n`);
      }
    });
    socket.on('end', () => {
      sawFin = true;
      socket.end('bye\n');
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    halfClosed: () => sawFin,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
