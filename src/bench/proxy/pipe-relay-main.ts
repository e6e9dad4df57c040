/**
 * A reference relay for the proxy benchmark, not a target: the simplest TCP relay Node can do,
 * `client.pipe(server)` and `server.pipe(client)` per connection in one process. It shows what
 * the runtime itself costs on this machine, so that the gap between it and tsmp is tsmp's own
 * overhead (handshake, replay cache, kernel queries), and the gap between it and haproxy is
 * Node's. Prints `{"port": N}` on stdout once listening.
 *
 *   node dist/bench/proxy/pipe-relay-main.js --backend PORT
 */
import { connect, createServer, type AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { backend: { type: 'string' } } });
const backendPort = Number(values.backend);
if (!Number.isInteger(backendPort) || backendPort < 1 || backendPort > 65535) {
  process.stderr.write('usage: pipe-relay-main.js --backend PORT\n');
  process.exit(2);
}

const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
  const upstream = connect({ port: backendPort, host: '127.0.0.1', noDelay: true, allowHalfOpen: true });
  const drop = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', drop);
  upstream.on('error', drop);
  client.once('close', () => upstream.destroySoon());
  upstream.once('close', () => client.destroySoon());
  client.pipe(upstream);
  upstream.pipe(client);
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.once('SIGTERM', () => process.exit(0));
process.stdin.resume();
process.stdin.once('end', () => process.exit(0));
