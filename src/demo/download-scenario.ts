import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { FileHandler } from '../agent/handlers/file-handler.js';
import { silentLogger } from '../common/logger.js';
import { startVideoServer } from './alice-servers.js';
import type { DemoWorld } from './demo-world.js';
import { mib, type Narrator } from './narrator.js';

const VIDEO_SIZE = 12 * 1024 * 1024;
const VIDEO_RATE = 4 * 1024 * 1024;

/**
 * The paper's Figure 3: Bob's phone downloads Alice's video through the proxy; mid-download he
 * moves it to his PC, whose handler appends the rest to the file. Returns whether the phone's
 * part followed by the PC's part is the original, byte for byte.
 */
export async function runDownloadScenario(world: DemoWorld, say: Narrator): Promise<boolean> {
  const video = await startVideoServer(VIDEO_SIZE, VIDEO_RATE);
  try {
    say.step(1, `Alice's HTTP server offers video.ts (${mib(video.size)}, sha256 ${video.sha256.slice(0, 16)}…)`);
    say.step(2, "Bob's phone starts downloading it through the tsmp proxy");
    const phonePart = join(world.dir, 'video.phone-part');
    const pcPart = join(world.dir, 'video.pc-part');
    const { socket } = await world.tunnel('phone', '127.0.0.1', video.port);
    socket.write(`GET /video.ts HTTP/1.1\r\nHost: alice.example\r\nConnection: close\r\n\r\n`);
    const phoneFile = createWriteStream(phonePart);
    let head = Buffer.alloc(0);
    let headDone = false;
    let body = 0;
    const phoneDone = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        if (!headDone) {
          // The phone's downloader reads the HTTP response head; the body goes to the file.
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          headDone = true;
          chunk = head.subarray(end + 4);
        }
        body += chunk.length;
        phoneFile.write(chunk);
        say.progress('phone', body, video.size);
      });
      // The proxy ends the phone's side once the PC took over; the phone's app then closes too.
      socket.on('end', () => socket.end());
      socket.on('close', () => phoneFile.end(resolve));
    });
    socket.on('error', () => {});
    socket.resume();
    while (body < video.size * 0.35) await new Promise((r) => setTimeout(r, 20));

    say.step(3, 'Bob gets home and moves the download to his PC');
    const [conn] = (await world.api<{ connections: { id: string }[] }>('phone', 'GET', '/v1/connections')).connections;
    const m = await world.api<{ id: string; ticket: string }>('phone', 'POST', `/v1/connections/${conn!.id}/migrate`, {
      to: 'pc',
      snapshot: { app: 'downloader', url: 'http://alice.example/video.ts', bytesDone: body },
    });
    say.say(`   migration ${m.id}: the proxy paused Alice's server; the phone stops at ${mib(body)}`);

    say.step(4, "Bob's PC attaches with the migration ticket; its file handler continues the file");
    const tunnel = await world.tunnel('pc', `${m.ticket}.ticket.tsmp.invalid`, 1);
    let pcBytes = 0;
    tunnel.socket.on('data', (d: Buffer) => {
      pcBytes += d.length;
      say.progress('pc', body + pcBytes, video.size);
    });
    const handler = new FileHandler({ path: pcPart });
    const outcome = handler.handle({ stream: tunnel.socket, migration: m.id, connection: conn!.id, destination: `127.0.0.1:${video.port}` }, { logger: silentLogger });
    const result = await world.migrationResult('phone', m.id);
    await phoneDone;
    const done = await outcome;
    say.endBar();
    say.say(`   migration ${result.state}:`);
    say.migration(result);

    say.step(5, 'Checking: sha256(phone part + PC part) = sha256(original)');
    const hash = createHash('sha256');
    for (const part of [phonePart, pcPart]) for await (const chunk of createReadStream(part)) hash.update(chunk as Buffer);
    const got = hash.digest('hex');
    say.say(`   phone part ${mib(body)} + PC part ${mib(done.bytesIn)} = ${mib(body + done.bytesIn)}`);
    const ok = got === video.sha256 && body + done.bytesIn === video.size && result.state === 'done';
    if (ok) say.ok(`sha256 ${got} matches the original`);
    else say.fail(`sha256 ${got} differs from the original ${video.sha256}`);
    return ok;
  } finally {
    await video.close();
  }
}
