import type { Socket } from 'node:net';

/**
 * Server-side reads without an allocation per read (docs/bench.md, "Where the time goes").
 *
 * By default libuv hands every read its own fresh 64 KiB ArrayBuffer. The relay keeps each chunk
 * in the replay cache until the device's acknowledgement is read (every `trimThreshold` bytes), so
 * the chunks live through a few scavenges, get promoted, and are only freed by mark-compacts that
 * V8 starts on "external memory pressure": at 100 bulk connections that was 6–12 mark-compacts
 * per 3 s and 4–5× the user CPU of a plain pipe relay. Reading through `onread` into one reused
 * buffer and copying each large read into a pooled block, which goes back to the pool when the
 * replay cache releases it, removed them in a same-run experiment
 * (`scripts/experiments/relay-gc/`: 0 mark-compacts, 20–25 % less CPU per GB than a plain pipe).
 *
 * Only a block the replay cache released comes back, and the cache releases bytes only below the
 * device's acknowledged offset (or a lost device's frozen one): the kernel has sent them, so no
 * write still reads the block. Small reads (interactive traffic) are copied into exact-size
 * buffers instead, so a 1 KiB message never pins a 64 KiB block.
 */
export class ReadBlockPool {
  /** The one buffer every pooled socket's reads land in; consumed synchronously by `onRead`. */
  readonly readBuffer: Buffer;
  private readonly free: Buffer[] = [];
  private readonly owned = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly blockBytes = 64 * 1024,
    /** Blocks kept for reuse at most; more are left to the GC. Bounds the idle pool's memory. */
    readonly maxFree = 256,
    /** Reads smaller than this are copied into their own buffer, not a block. */
    readonly minBlockRead = blockBytes / 2,
  ) {
    this.readBuffer = Buffer.allocUnsafeSlow(blockBytes);
  }

  /** Blocks waiting for reuse (for tests and metrics). */
  get freeBlocks(): number {
    return this.free.length;
  }

  /** A copy of `n` bytes of the read buffer, in a pooled block when the read is large. */
  copyRead(n: number): Buffer {
    if (n < this.minBlockRead) return Buffer.from(this.readBuffer.subarray(0, n));
    let block = this.free.pop();
    if (!block) {
      block = Buffer.allocUnsafeSlow(this.blockBytes);
      this.owned.add(block.buffer);
    }
    this.readBuffer.copy(block, 0, 0, n);
    return block.subarray(0, n);
  }

  /** Gives a chunk's block back; chunks that are not from this pool are ignored. */
  release(chunk: Buffer): void {
    if (!this.owned.has(chunk.buffer) || this.free.length >= this.maxFree) return;
    this.free.push(Buffer.from(chunk.buffer, 0, this.blockBytes));
  }

  /**
   * `net.connect` options that make a socket read through this pool. Each copy is `push`ed into
   * the socket's own readable side, exactly where libuv's chunk would have gone without `onread`:
   * its consumer does not change, a chunk read before anyone listens is buffered, not lost, and
   * `false` from `push` (paused, buffer full) stops reading as a plain socket does; EOF is still
   * pushed by Node itself, after these chunks.
   */
  socketOptions(getSocket: () => Socket | undefined): { onread: { buffer: Buffer; callback: (n: number, buf: Buffer) => boolean } } {
    return {
      onread: {
        buffer: this.readBuffer,
        callback: (n: number) => {
          const socket = getSocket();
          if (!socket) return false;
          return socket.push(this.copyRead(n));
        },
      },
    };
  }
}
