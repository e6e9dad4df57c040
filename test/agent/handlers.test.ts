import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/logger.js';
import { TimeoutError } from '../../src/common/errors.js';
import { MigrationAwareApps } from '../../src/agent/app-api.js';
import { FileHandler } from '../../src/agent/handlers/file-handler.js';
import { ExecHandler } from '../../src/agent/handlers/exec-handler.js';
import { PortHandler } from '../../src/agent/handlers/port-handler.js';
import { AwareHandler } from '../../src/agent/handlers/aware-handler.js';
import type { ResumedStream } from '../../src/agent/handlers/handler-types.js';
import { connectTo, payload, readAll, sha256, tcpPair, writeChunked } from './helpers/sockets.js';
import type { Duplex } from 'node:stream';

const context = { logger: silentLogger };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsmp-handlers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function resumed(stream: Duplex, extra: Partial<ResumedStream> = {}): ResumedStream {
  return { stream, migration: 'm1', connection: 'c1', destination: 'video.example:80', from: 'phone.bob@example.org', ...extra };
}

describe('file handler', () => {
  it('appends the rest of the stream after what the file already holds, byte for byte', async () => {
    const path = join(dir, 'video.bin');
    const head = payload(100_000);
    const rest = payload(3 * 1024 * 1024 + 17);
    writeFileSync(path, head);
    const { upstream, stream } = await tcpPair();
    const done = new FileHandler({ path }).handle(resumed(stream), context);
    await writeChunked(upstream, rest);
    const outcome = await done;
    expect(outcome.bytesIn).toBe(rest.length);
    expect(sha256(readFileSync(path))).toBe(sha256([head, rest]));
  });

  it('fails with a clear error when the file cannot be written, and closes the stream', async () => {
    const { upstream, stream } = await tcpPair();
    const closed = readAll(upstream);
    upstream.write('x');
    await expect(new FileHandler({ path: join(dir, 'no/such/dir/f') }).handle(resumed(stream), context)).rejects.toMatchObject({
      code: 'ERR_HANDLER_FAILED',
    });
    await closed;
  });
});

describe('exec handler', () => {
  it('feeds the stream to the command and sends its stdout back upstream, byte for byte', async () => {
    const { upstream, stream } = await tcpPair();
    const data = payload(2 * 1024 * 1024 + 3);
    const echoed = readAll(upstream);
    const done = new ExecHandler({ command: 'cat' }).handle(resumed(stream), context);
    await writeChunked(upstream, data);
    const [back, outcome] = await Promise.all([echoed, done]);
    expect(sha256(back)).toBe(sha256(data));
    expect(outcome).toMatchObject({ bytesIn: data.length, bytesOut: data.length, exitCode: 0 });
  });

  it('gives the command the snapshot and migration in its environment', async () => {
    const { upstream, stream } = await tcpPair();
    const snapshot = { offset: 1234, name: 'bob' };
    const back = readAll(upstream);
    const done = new ExecHandler({ command: 'printf "%s|%s|%s" "$TSMP_SNAPSHOT" "$TSMP_DESTINATION" "$TSMP_FROM"' }).handle(
      resumed(stream, { snapshot }),
      context,
    );
    upstream.end();
    expect((await back).toString()).toBe(`${JSON.stringify(snapshot)}|video.example:80|phone.bob@example.org`);
    expect((await done).exitCode).toBe(0);
  });

  it('reports a failing command by its exit code and still ends the stream', async () => {
    const { upstream, stream } = await tcpPair();
    const back = readAll(upstream);
    const done = new ExecHandler({ command: 'exit 3' }).handle(resumed(stream), context);
    upstream.end();
    expect((await done).exitCode).toBe(3);
    expect((await back).length).toBe(0);
  });
});

describe('port handler', () => {
  it('queues the stream up to its bound until one client attaches, then relays both ways exactly', async () => {
    const { upstream, stream } = await tcpPair();
    const down = payload(4 * 1024 * 1024);
    const up = payload(300_000);
    let port = 0;
    let done!: Promise<unknown>;
    const listening = new Promise<void>((resolve) => {
      const handler = new PortHandler({
        host: '127.0.0.1',
        port: 0,
        maxQueuedBytes: 64 * 1024,
        onListening: (a) => {
          port = a.port;
          resolve();
        },
      });
      done = handler.handle(resumed(stream), context);
    });
    const writing = writeChunked(upstream, down);
    const upstreamGot = readAll(upstream);
    await listening;
    // Let the upstream fill the queue and hit the bound before anyone attaches.
    await new Promise((r) => setTimeout(r, 150));
    expect(stream.isPaused()).toBe(true);
    const client = await connectTo(port);
    const clientGot = readAll(client);
    await writeChunked(client, up);
    await writing;
    expect(sha256(await clientGot)).toBe(sha256(down));
    expect(sha256(await upstreamGot)).toBe(sha256(up));
    expect(await done).toMatchObject({ bytesIn: down.length, bytesOut: up.length });
  });

  it('keeps the queued bytes when the stream ends before the client attaches', async () => {
    const { upstream, stream } = await tcpPair();
    const down = payload(10_000);
    let port = 0;
    let done!: Promise<unknown>;
    await new Promise<void>((resolve) => {
      done = new PortHandler({ host: '127.0.0.1', port: 0, onListening: (a) => ((port = a.port), resolve()) }).handle(
        resumed(stream),
        context,
      );
    });
    upstream.end(down);
    await new Promise((r) => stream.once('end', r));
    const client = await connectTo(port);
    const got = readAll(client);
    client.end();
    expect(sha256(await got)).toBe(sha256(down));
    await done;
  });

  it('gives up after the attach timeout and closes the stream', async () => {
    const { upstream, stream } = await tcpPair();
    const closed = readAll(upstream);
    const started = Date.now();
    await expect(new PortHandler({ host: '127.0.0.1', port: 0, attachTimeoutMs: 200 }).handle(resumed(stream), context)).rejects.toBeInstanceOf(
      TimeoutError,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await closed;
  });
});

describe('migration-aware app (M-TCP export/import)', () => {
  it('exports state on the old side and imports it with the resumed stream on the new side', async () => {
    const oldSide = new MigrationAwareApps();
    oldSide.register({
      name: 'downloader',
      owns: (c) => c.destination === 'video.example:80',
      exportState: (c) => ({ url: `http://${c.destination}/v.bin`, received: 5000 }),
    });
    const envelope = await oldSide.exportFor({ id: 'c1', destination: 'video.example:80' });
    expect(envelope).toEqual({ tsmp: 1, app: 'downloader', state: { url: 'http://video.example:80/v.bin', received: 5000 } });

    const newSide = new MigrationAwareApps();
    let imported: unknown;
    const parts: Buffer[] = [];
    newSide.register({
      name: 'downloader',
      importState: async (state, stream) => {
        imported = state;
        for await (const chunk of stream) parts.push(chunk as Buffer);
      },
    });
    const { upstream, stream } = await tcpPair();
    const data = payload(1024 * 1024);
    const done = new AwareHandler(newSide).handle(resumed(stream, { app: envelope!.app!, snapshot: envelope!.state! }), context);
    await writeChunked(upstream, data);
    await done;
    expect(imported).toEqual(envelope!.state);
    expect(sha256(parts)).toBe(sha256(data));
  });

  it('refuses snapshots over the bound, and a migration naming an app this device lacks', async () => {
    const apps = new MigrationAwareApps({ maxSnapshotBytes: 100 });
    apps.register({ name: 'big', owns: () => true, exportState: () => 'x'.repeat(200) });
    await expect(apps.exportFor({ id: 'c', destination: 'a:1' })).rejects.toMatchObject({ code: 'ERR_SNAPSHOT' });
    const { stream } = await tcpPair();
    await expect(new AwareHandler(apps).handle(resumed(stream, { app: 'missing' }), context)).rejects.toMatchObject({
      code: 'ERR_HANDLER_FAILED',
    });
  });
});
