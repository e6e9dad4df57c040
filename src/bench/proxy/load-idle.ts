import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ProxyBenchError } from './errors.js';
import { closeGracefully } from './graceful-close.js';
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

/** Closes every held connection with a FIN (see graceful-close.ts). */
export async function releaseIdle(args: { timeoutMs?: number } = {}): Promise<{ released: number; unclosed: number }> {
  const sockets = held.splice(0);
  const unclosed = await closeGracefully(sockets, args.timeoutMs ?? 10_000);
  return { released: sockets.length, unclosed };
}
