#!/usr/bin/env node
/**
 * A stand-alone entry with only the name server's commands (`node dist/names/server-main.js
 * nameserver ...`): what the benchmark starts, and a way to run the name server on a host
 * that needs nothing else of tsmp.
 */
import { Command } from 'commander';
import { registerNameCommands } from '../cli/commands/names.js';
import { TsmpError } from '../common/errors.js';

const program = new Command().name('tsmp');
registerNameCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  const code = err instanceof TsmpError ? ` [${err.code}]` : '';
  process.stderr.write(`tsmp: ${err instanceof Error ? err.message : String(err)}${code}\n`);
  process.exit(1);
}
