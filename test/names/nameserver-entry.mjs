#!/usr/bin/env node
// `tsmp nameserver ...` with only the name server's commands loaded from dist/, so the crash and
// multi-process tests run the real server process without depending on other parts' CLI code.
import { Command } from 'commander';
import { registerNameCommands } from '../../dist/cli/commands/names.js';

const program = new Command().name('tsmp');
registerNameCommands(program);
await program.parseAsync(process.argv);
