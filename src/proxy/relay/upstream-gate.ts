import type { Socket } from 'node:net';

/**
 * Keeps the device→server direction in order across a migration (DESIGN.md invariant 2, issue 2
 * "Migration" step 5): while the old device is letting go, whatever the new device sends waits
 * here, bounded, and its socket is paused once the bound is reached. `open()` flushes the queue
 * to the server and lets the new device's bytes through.
 */
export class UpstreamGate {
  private queue: Buffer[] = [];
  private queued = 0;

  constructor(private readonly limit: number) {}

  /** Queues a chunk from the new device; pauses `from` when the bound is reached. */
  hold(chunk: Buffer, from: Socket): void {
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= this.limit) from.pause();
  }

  /** Opens the gate, handing every queued chunk to `write` in order. */
  open(write: (chunk: Buffer) => boolean, from: Socket | undefined): void {
    const queue = this.queue;
    this.queue = [];
    this.queued = 0;
    let flowing = true;
    for (const chunk of queue) flowing = write(chunk);
    // When the server pushed back, its 'drain' resumes the device instead.
    if (flowing && from && !from.destroyed) from.resume();
  }
}
