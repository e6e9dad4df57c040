import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchChild } from './child-process.js';
import { JsonLinesClient } from './json-lines.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The compiled CLI (`dist/cli/main.js`), next to this compiled file. */
export const CLI_MAIN = join(HERE, '../../cli/main.js');

/** Starts the source server child and returns its port. */
export async function startSourceServer(opts: { streamChunk: number; streamIntervalMs: number; timeoutMs: number }) {
  const child = new BenchChild({
    name: 'source server',
    command: process.execPath,
    args: [join(HERE, 'source-server-main.js'), '--stream-chunk', String(opts.streamChunk), '--stream-interval', String(opts.streamIntervalMs)],
  });
  const port = await child.waitForLine(portOf, 'its port', opts.timeoutMs);
  return { child, port };
}

/** Starts the reference pipe relay (`pipe-relay-main.ts`) in front of the source server. */
export async function startPipeRelay(opts: { backendPort: number; timeoutMs: number }) {
  const child = new BenchChild({
    name: 'pipe relay',
    command: process.execPath,
    args: [join(HERE, 'pipe-relay-main.js'), '--backend', String(opts.backendPort)],
  });
  const port = await child.waitForLine(portOf, 'its port', opts.timeoutMs);
  return { child, port };
}

/** Starts the load generator child and waits until it answers. */
export async function startLoadGenerator(timeoutMs: number) {
  const child = new BenchChild({ name: 'load generator', command: process.execPath, args: [join(HERE, 'load-main.js')] });
  const rpc = new JsonLinesClient(child);
  await rpc.call('ping', {}, timeoutMs);
  return { child, rpc };
}

function portOf(line: string): number | undefined {
  try {
    const v = JSON.parse(line) as { port?: unknown };
    return typeof v.port === 'number' ? v.port : undefined;
  } catch {
    return undefined;
  }
}
