import type { Socket } from 'node:net';

/**
 * Ends sockets the way a finished client does: a FIN, then wait for the peer to close. An
 * abrupt destroy would look to the tsmp proxy like a device lost mid-stream, and it would hold
 * the server side for `--detach-hold` (120 s) with megabytes queued in the kernel: that memory
 * pressure slows every later figure down. Sockets still open at the deadline are destroyed.
 * Resolves with how many had to be.
 */
export async function closeGracefully(sockets: readonly Socket[], timeoutMs: number): Promise<number> {
  const open = sockets.filter((s) => !s.destroyed);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(
      open.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.once('close', () => resolve());
            s.resume(); // keep reading what is still in flight, or the peer cannot finish
            s.end();
          }),
      ),
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
  const left = open.filter((s) => !s.destroyed);
  for (const s of left) s.destroy();
  return left.length;
}
