/**
 * Output a client received but has not handed to the application yet (it is paused, or its
 * buffer is full), in arrival order, with its byte count. The connection bounds it
 * (`heldOutputLimit`) by pausing its socket; nothing here drops or copies.
 */
export class HeldOutput {
  private chunks: Buffer[] = [];
  private head = 0; // index of the oldest chunk (no Array#shift per take)
  private count = 0;

  get bytes(): number {
    return this.count;
  }

  get empty(): boolean {
    return this.head === this.chunks.length;
  }

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.count += chunk.length;
  }

  /** The oldest chunk, removed; undefined when empty. */
  take(): Buffer | undefined {
    if (this.empty) return undefined;
    const chunk = this.chunks[this.head]!;
    this.chunks[this.head++] = undefined as unknown as Buffer;
    this.count -= chunk.length;
    if (this.empty) {
      this.chunks = [];
      this.head = 0;
    }
    return chunk;
  }
}
