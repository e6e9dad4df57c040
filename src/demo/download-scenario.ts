import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '../agent/app-api.js';
import { FileHandler } from '../agent/handlers/file-handler.js';
import { connectViaProxy } from '../agent/proxy-client/connect-via-proxy.js';
import { formatHostPort } from '../common/host-port.js';
import { silentLogger } from '../common/logger.js';
import type { VideoServer } from './alice-servers.js';
import type { DemoStack } from './demo-stack.js';
import { findLiveConnection, incomingRecord, moveViaAgent } from './move-via-agent.js';
import { mib, type Narrator } from './narrator.js';
import { countingStream, startPhoneDownload } from './phone-downloader.js';
import { deferred, waitFor, within } from './waits.js';

/** The downloader's state, M-TCP's per-connection snapshot: what it fetches and how far it got. */
type DownloadState = { url: string; file: string; bytesDone: number };

/**
 * The paper's Figure 3: Bob's phone downloads Alice's video through its agent and the proxy;
 * mid-download he moves it to his PC. The phone's downloader is migration-aware: it exports its
 * state with the request, and the PC's downloader imports it and appends the rest of the stream
 * to the file with the agent's `file:` handler. Checks that the phone's part followed by the
 * PC's part is the original, byte for byte, and that the PC received the exported state.
 */
export async function runDownloadScenario(stack: DemoStack, video: VideoServer, say: Narrator): Promise<boolean> {
  const { phone, pc } = stack.devices;
  const destination = `127.0.0.1:${video.port}`;
  const url = 'http://alice.example/video.ts';
  const phonePart = join(stack.dir, 'video.phone-part');
  const pcPart = join(stack.dir, 'video.pc-part');
  let download: ReturnType<typeof startPhoneDownload> | undefined;
  let exported: DownloadState | undefined;
  let pcBar = false;
  const imported = deferred<{ state: JsonValue; from: string | undefined; bytesIn: number }>();

  // The phone's half of the app (M-TCP export): called by the phone's agent when Bob moves it.
  const unregisterPhone = phone.apps.register<DownloadState>({
    name: 'downloader',
    owns: (c) => c.destination === destination,
    exportState: () => (exported = { url, file: 'video.ts', bytesDone: download?.body ?? 0 }),
  });
  // The PC's half (M-TCP import): run by the PC's agent on the resumed stream.
  const unregisterPc = pc.apps.register({
    name: 'downloader',
    importState: async (state, stream, ctx) => {
      const counted = countingStream(stream, (n) => {
        if (pcBar) say.progress('pc', (download?.body ?? 0) + n, video.size);
      });
      const resumed = { stream: counted, migration: ctx.migration, connection: ctx.connection.id, destination: ctx.connection.destination };
      try {
        const outcome = await new FileHandler({ path: pcPart }).handle(resumed, { logger: silentLogger });
        imported.resolve({ state, from: ctx.from, bytesIn: outcome.bytesIn });
      } catch (err) {
        imported.reject(err as Error);
        throw err;
      } finally {
        stream.end();
      }
    },
  });
  try {
    say.step(1, `Alice's HTTP server offers video.ts (${mib(video.size)}, sha256 ${video.sha256.slice(0, 16)}…)`);
    say.step(2, `Bob's phone downloads it: its app → the phone's agent (SOCKS ${formatHostPort(phone.socks)}) → the proxy, as ${phone.did}`);
    const { socket } = await connectViaProxy('127.0.0.1', video.port, { proxy: phone.socks });
    download = startPhoneDownload(socket, `GET /video.ts HTTP/1.1\r\nHost: alice.example\r\nConnection: close\r\n\r\n`, phonePart, (n) => say.progress('phone', n, video.size));
    const phoneApp = download;
    await waitFor('the phone downloading a third of the video', () => phoneApp.body >= video.size * 0.35, 20_000);

    say.step(3, 'Bob gets home and, on his phone, moves the download to his PC');
    const conn = await findLiveConnection(phone, destination);
    say.say(`   $ tsmp ls            ${conn.id}  ${conn.destination}  ${conn.state}  ↓ ${mib(conn.bytesDown)}`);
    say.say(`   $ tsmp migrate ${conn.id} --to pc`);
    const result = await moveViaAgent(phone, conn.id, 'pc');
    say.say(`   the phone's downloader exported ${JSON.stringify(exported)}`);
    say.say(`   migration ${result.id} ${result.state}:`);
    say.migration(result, { device: 'pc', record: await incomingRecord(pc, result.id, 'attached'), phases: ['received', 'attached'] });

    say.step(4, "Bob's PC: its downloader imported the state and appends the rest with the file: handler");
    pcBar = true;
    const pcSide = await within('the PC finishing the download', imported.promise, 30_000);
    await within("the phone's downloader closing", phoneApp.done, 10_000);
    say.endBar();
    say.say(`   the PC's downloader imported ${JSON.stringify(pcSide.state)} (from ${pcSide.from ?? 'an unknown device'})`);
    const record = await incomingRecord(pc, result.id, 'handled');
    say.handlerDone('pc', record, result.phases.requested ?? 0);

    say.step(5, 'Checking: sha256(phone part + PC part) = sha256(original), and the state the PC received');
    const hash = createHash('sha256');
    for (const part of [phonePart, pcPart]) for await (const chunk of createReadStream(part)) hash.update(chunk as Buffer);
    const got = hash.digest('hex');
    const phoneBytes = phoneApp.body;
    say.say(`   phone part ${mib(phoneBytes)} + PC part ${mib(pcSide.bytesIn)} = ${mib(phoneBytes + pcSide.bytesIn)}`);
    const bytesOk = got === video.sha256 && phoneBytes + pcSide.bytesIn === video.size && result.state === 'done';
    if (bytesOk) say.ok(`sha256 ${got} matches the original`);
    else say.fail(`sha256 ${got} differs from the original ${video.sha256}`);
    // The paper's semantics of "received": what the phone's TCP acknowledged, which is where the
    // proxy resumed the stream for the PC (docs/CONTRACTS.md, `fromOffset`).
    const offsetOk = phoneApp.headBytes + phoneBytes === result.fromOffset;
    if (offsetOk) say.ok(`the phone's app got exactly the ${result.fromOffset} bytes its side acknowledged (HTTP head ${phoneApp.headBytes} + body ${phoneBytes}); the PC resumed there`);
    else say.fail(`the phone's app got ${phoneApp.headBytes + phoneBytes} bytes, the proxy resumed at ${result.fromOffset}`);
    const stateOk = exported !== undefined && JSON.stringify(pcSide.state) === JSON.stringify(exported) && pcSide.from === phone.did;
    if (stateOk) say.ok(`the PC's handler received the state the phone exported (${exported!.url}, ${exported!.bytesDone} bytes done), from ${phone.did}`);
    else say.fail(`the PC's handler received ${JSON.stringify(pcSide.state)} from ${pcSide.from}; the phone exported ${JSON.stringify(exported)}`);
    return bytesOk && offsetOk && stateOk;
  } finally {
    say.endBar();
    unregisterPhone();
    unregisterPc();
  }
}
