import type { Command } from 'commander';
import { ConfigError } from '../../common/errors.js';

/** Registers `tsmp demo [tsmp|mtcp|bank]`. */
export function registerDemoCommands(program: Command): void {
  program
    .command('demo [scenario]')
    .description(
      "play a scenario end to end on embedded defaults: 'tsmp' (default) moves a download and a chat from Bob's phone " +
        "to his PC; 'mtcp' moves a stream across a pool of 3 servers; 'bank' runs transfers while front-ends die",
    )
    .action(async (scenario: string | undefined) => {
      switch (scenario ?? 'tsmp') {
        case 'tsmp': {
          const { runDemo } = await import('../../demo/run-demo.js');
          process.exitCode = await runDemo();
          return;
        }
        case 'mtcp': {
          const { runMtcpDemo } = await import('../../demo/mtcp-demo.js');
          process.exitCode = (await runMtcpDemo()) ? 0 : 1;
          return;
        }
        case 'bank': {
          const { runBankDemo } = await import('../../demo/bank-demo.js');
          process.exitCode = (await runBankDemo()) ? 0 : 1;
          return;
        }
        default:
          throw new ConfigError(`unknown demo "${scenario}": choose tsmp, mtcp or bank`);
      }
    });
}
