import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ProxyBenchError } from './errors.js';
import { dial, mapLimit } from './socks-dial.js';
import { MODE } from './source-protocol.js';
import type { Target } from './targets.js';

export interface IdleArgs {
  target: Target;
  count: number;
  concurrency: number;
  dialTimeoutMs: number;
}

const held: Socket[] = [];

/**
 * Opens `count` connections that then stay idle, and holds them until `releaseIdle`. Each sends
 * the idle mode byte so the relay has carried one byte each way of its path to the server.
 */
export async function openIdle(args: IdleArgs): Promise<{ opened: number; seconds: number }> {
  const t0 = performance.now();
  await mapLimit(Array.from({ length: args.count }), args.concurrency, async () => {
    const { socket } = await dial(args.target, args.dialTimeoutMs);
    held.push(socket);
    socket.write(Buffer.from([MODE.idle]));
  });
  const dropped = held.filter((s) => s.destroyed).length;
  if (dropped > 0) throw new ProxyBenchError(`${dropped} idle connection(s) through ${args.target.kind} were closed`);
  return { opened: held.length, seconds: (performance.now() - t0) / 1000 };
}

export async function releaseIdle(): Promise<{ released: number; stillOpen: number }> {
  const stillOpen = held.filter((s) => !s.destroyed).length;
  const released = held.length;
  for (const s of held.splice(0)) s.destroy();
  return { released, stillOpen };
}
