import type { Command } from 'commander';

/** Registers `tsmp demo`. */
export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description("play the paper's scenario end to end on embedded defaults: a download and a chat move from Bob's phone to his PC")
    .action(async () => {
      const { runDemo } = await import('../../demo/run-demo.js');
      process.exitCode = await runDemo();
    });
}
