#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerProxyCommands } from './commands/proxy.js';
import { registerNameCommands } from './commands/names.js';
import { registerAgentCommands } from './commands/agent.js';
import { registerMtcpCommands } from './commands/mtcp.js';
import { registerDemoCommands } from './commands/demo.js';
import { TsmpError } from '../common/errors.js';

const program = new Command();
program
  .name('tsmp')
  .description('Move live TCP connections between your devices (TSMP) and between the servers of a pool (M-TCP).')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');

registerProxyCommands(program);
registerNameCommands(program);
registerAgentCommands(program);
registerMtcpCommands(program);
registerDemoCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Errors are one clear line and a non-zero exit (issue 4, CLI).
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const code = err instanceof TsmpError ? ` [${err.code}]` : '';
  process.stderr.write(`tsmp: ${err instanceof Error ? err.message : String(err)}${code}\n`);
  process.exit(1);
}
