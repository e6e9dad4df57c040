import type { Command } from 'commander';

/** Registers this part's subcommands on the root program. */
export function registerDemoCommands(_program: Command): void {}
