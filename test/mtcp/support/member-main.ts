// Child-process entry for tests that SIGKILL pool members: argv = pool file, member id, rate.
import { runStreamServer } from '../../../src/mtcp/examples/run-stream-server.js';

const [pool, id, rate] = process.argv.slice(2) as [string, string, string | undefined];
await runStreamServer({ pool, id, rate: rate ? Number(rate) : undefined });
