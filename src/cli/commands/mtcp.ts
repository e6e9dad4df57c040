import type { Command } from 'commander';
import { runStreamServer } from '../../mtcp/examples/run-stream-server.js';

/** Registers this part's subcommands on the root program: `tsmp example stream-server`. */
export function registerMtcpCommands(program: Command): void {
  const example = program.command('example').description('Sample services shipped with tsmp');
  example
    .command('stream-server')
    .description('A migratory stream server (M-TCP pool member): answers "STREAM <seed> <length>\\n" with SHA-256 digests')
    .requiredOption('--pool <file>', 'pool file: {"key", "members": [{"id", "address"}], "store"}')
    .requiredOption('--id <id>', 'this member\'s id in the pool')
    .option('--listen <host:port>', 'where to listen (default: this member\'s address in the pool)')
    .option('--rate <bytes_per_s>', 'sending rate in bytes/s (default: unlimited)', (v) => Number(v))
    .action(async (o: { pool: string; id: string; listen?: string; rate?: number }) => {
      await runStreamServer(o);
    });
}
