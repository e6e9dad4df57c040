// Child-process entry for tests that SIGKILL pool members.
//   member-main POOL ID [RATE]          start at once
//   member-main --standby POOL [RATE]   load everything, then wait for "<id>\n" on stdin (a warm
//                                       spare: it takes a killed member's place in milliseconds)
import { createInterface } from 'node:readline';
import { runStreamServer } from '../../../src/mtcp/examples/run-stream-server.js';

const args = process.argv.slice(2);
if (args[0] === '--standby') {
  const [, pool, rate] = args as [string, string, string | undefined];
  const lines = createInterface({ input: process.stdin });
  lines.once('line', (id) => {
    lines.close();
    void runStreamServer({ pool, id: id.trim(), rate: rate ? Number(rate) : undefined });
  });
  process.stdout.write('standby\n');
} else {
  const [pool, id, rate] = args as [string, string, string | undefined];
  await runStreamServer({ pool, id, rate: rate ? Number(rate) : undefined });
}
