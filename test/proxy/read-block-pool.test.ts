/**
 * The server side's read-block pool (src/proxy/relay/read-block-pool.ts): large reads land in
 * reused blocks that come back only when released; small reads get their own buffer; and a socket
 * reading through it delivers exactly the server's bytes, also when it is paused and resumed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ReadBlockPool } from '../../src/proxy/relay/read-block-pool.js';
import { ReplayBuffer } from '../../src/proxy/relay/replay-buffer.js';
import { dialDestination } from '../../src/proxy/front/dial.js';
import { digestStreamSlice } from '../../src/common/digest-stream.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe('ReadBlockPool', () => {
  it('copies large reads into blocks reused only after release, small reads into their own buffers', () => {
    const pool = new ReadBlockPool(1024, 2);
    pool.readBuffer.fill(7);
    const a = pool.copyRead(1000);
    const b = pool.copyRead(600);
    expect(a.buffer).not.toBe(b.buffer);
    expect(a.length).toBe(1000);
    expect(pool.freeBlocks).toBe(0);
    const small = pool.copyRead(10);
    pool.release(small); // not a block: ignored
    pool.release(Buffer.alloc(1024)); // not ours: ignored
    expect(pool.freeBlocks).toBe(0);
    pool.release(a);
    expect(pool.freeBlocks).toBe(1);
    pool.readBuffer.fill(9);
    const c = pool.copyRead(800);
    expect(c.buffer).toBe(a.buffer); // the released block, reused
    expect([...c].every((x) => x === 9)).toBe(true);
    pool.release(b);
    pool.release(c);
    pool.release(pool.copyRead(900)); // the free list is bounded: a third block is left to the GC
    expect(pool.freeBlocks).toBe(2);
  });

  it('the replay cache hands back whole chunks it drops, never a chunk still held', () => {
    const dropped: Buffer[] = [];
    const r = new ReplayBuffer(0, (c) => dropped.push(c));
    const chunks = [Buffer.alloc(100, 1), Buffer.alloc(100, 2), Buffer.alloc(100, 3)];
    for (const c of chunks) r.append(c);
    r.release(150); // the first whole, half of the second
    expect(dropped).toEqual([chunks[0]]);
    r.release(200);
    expect(dropped).toEqual([chunks[0], chunks[1]]);
    expect(Buffer.concat(r.sliceFrom(200))).toEqual(chunks[2]);
  });

  it('a socket dialed through the pool receives exactly the stream, across pauses and recycling', async () => {
    const total = 8 * 1024 * 1024;
    const srv = createServer((s) => {
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const n = Math.min(65536, total - sent);
          const ok = s.write(digestStreamSlice('pool', sent, n));
          sent += n;
          if (!ok) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const pool = new ReadBlockPool();
    const sock: Socket = await dialDestination({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port }, { timeoutMs: 5000, readPool: pool });
    const hash = createHash('sha256');
    let got = 0;
    let reused = 0;
    const seen = new WeakSet<ArrayBufferLike>();
    await new Promise<void>((resolve, reject) => {
      sock.on('data', (chunk: Buffer) => {
        if (seen.has(chunk.buffer)) reused++;
        seen.add(chunk.buffer);
        hash.update(chunk);
        got += chunk.length;
        pool.release(chunk); // consumed: the block may carry a later read
        if (got % (1024 * 1024) < chunk.length) {
          sock.pause();
          setTimeout(() => sock.resume(), 5);
        }
      });
      sock.on('end', resolve);
      sock.on('error', reject);
    });
    expect(got).toBe(total);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(digestStreamSlice('pool', 0, total)).digest('hex'));
    expect(reused).toBeGreaterThan(0);
  });
});
