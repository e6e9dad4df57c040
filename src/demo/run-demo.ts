import { runChatScenario } from './chat-scenario.js';
import { DemoWorld } from './demo-world.js';
import { runDownloadScenario } from './download-scenario.js';
import { Narrator } from './narrator.js';

/**
 * `tsmp demo`: the paper's scenario end to end on embedded defaults. Resolves with the process
 * exit code: 0 only if every check held.
 */
export async function runDemo(): Promise<number> {
  const say = new Narrator();
  const world = new DemoWorld();
  const started = Date.now();
  const watchdog = setTimeout(() => {
    say.fail('the demo did not finish within 60 s');
    process.exit(1);
  }, 60_000);
  try {
    say.say('tsmp demo — moving live TCP connections between Bob\'s devices (TSMP, UBICOMM 2011, Figure 3)');
    await world.start();
    say.say(`proxy on 127.0.0.1:${world.proxyPort}, control API on ${world.controlUrl}; devices ${world.did('phone')} and ${world.did('pc')}`);
    const download = await runDownloadScenario(world, say);
    const chat = await runChatScenario(world, say);
    const ok = download && chat;
    say.say(`\n${ok ? 'All checks held' : 'Some checks FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s).`);
    return ok ? 0 : 1;
  } catch (err) {
    say.fail(`demo aborted: ${(err as Error).message}`);
    return 1;
  } finally {
    clearTimeout(watchdog);
    await world.close();
  }
}
