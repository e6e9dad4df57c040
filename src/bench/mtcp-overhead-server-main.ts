/**
 * The throughput-overhead figure's servers in their own process (`node
 * dist/bench/mtcp-overhead-server-main.js sha|raw`), so that the reading client does not share
 * the servers' event loop: in one process, the client's frame decoding was charged to the
 * server's throughput. Prints one JSON line `{plainAddress, kitAddress}`; stops on SIGTERM or
 * when stdin closes (the parent went away).
 */
import { startOverheadServers } from './mtcp-overhead-servers.js';

const servers = await startOverheadServers(process.argv[2] === 'raw');
process.stdout.write(`${JSON.stringify({ plainAddress: servers.plainAddress, kitAddress: servers.kitAddress })}\n`);
const stop = (): void => void servers.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.stdin.on('end', stop).resume();
