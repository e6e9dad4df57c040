import { afterEach, describe, expect, it } from 'vitest';
import { MtcpClientConnection } from '../../src/mtcp/client/client-connection.js';
import { MtcpServer } from '../../src/mtcp/server/mtcp-server.js';
import type { MtcpSession } from '../../src/mtcp/server/session-types.js';
import { expectedStreamHash, formatStreamRequest } from '../../src/mtcp/examples/stream-protocol.js';
import { streamHandler } from '../../src/mtcp/examples/stream-server.js';
import { makePool, readHashed } from './support/pool.js';

let server: MtcpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('backpressure', () => {
  it('pause() holds the member at its bound (held output is not acknowledged), then every byte arrives once', async () => {
    const pool = await makePool(1);
    const HIGH = 256 * 1024;
    let session: MtcpSession | undefined;
    const inner = streamHandler({ chunkBytes: 16384 });
    server = new MtcpServer({ pool, id: 's1', outputHighWater: HIGH, outputLimit: 4 * HIGH, handler: (s) => ((session = s), inner(s)) });
    await server.listen();
    const conn = await new MtcpClientConnection({ address: pool.members[0]!.address, readHighWaterMark: 16384, silenceTimeoutMs: 500 }).connect();
    const length = 4 << 20; // more than the kit's window
    conn.pause();
    conn.write(formatStreamRequest({ seed: 'bp', length }));
    // Wait (bounded) until the member stops writing: it is either at its window or nowhere near.
    let last = -1;
    for (let i = 0; i < 100 && session?.bytesWritten !== last; i++) {
      last = session?.bytesWritten ?? -1;
      await new Promise((r) => setTimeout(r, 300));
    }
    // The member stopped at its window: unacknowledged output never passes the high-water mark
    // by more than one chunk, because the paused client acknowledges nothing it has not handed
    // over (it still reads the socket, holding the bytes, so control frames keep arriving).
    const written = session!.bytesWritten;
    expect(written).toBeGreaterThanOrEqual(HIGH);
    expect(written).toBeLessThanOrEqual(HIGH + 16384);
    await new Promise((r) => setTimeout(r, 700)); // longer than the silence timeout
    expect(session!.bytesWritten).toBe(written);
    expect(conn.bytesReceived).toBeLessThanOrEqual(written);
    // Paused long past the silence timeout, yet no migration: a paused reader is not a failure.
    expect(conn.migrations).toHaveLength(0);
    const reading = readHashed(conn, length, 30_000);
    conn.resume();
    const got = await reading;
    expect(got.hash).toBe(expectedStreamHash('bp', length));
    conn.destroy();
  }, 60_000);
});
