import type { Duplex } from 'node:stream';
import type { JsonValue } from '../agent/app-api.js';
import { connectViaProxy } from '../agent/proxy-client/connect-via-proxy.js';
import type { ChatServer } from './alice-servers.js';
import type { DemoStack } from './demo-stack.js';
import { lineReader, type LineReader } from './line-reader.js';
import { findLiveConnection, incomingRecord, moveViaAgent } from './move-via-agent.js';
import type { Narrator } from './narrator.js';
import { deferred, sleep, waitFor, within } from './waits.js';

/** The chat app's exported state: who talks to whom and how much of the talk it has shown. */
type ChatState = { nick: string; peer: string; linesShown: number; lastLine: string };

/**
 * The instant-messaging scenario: a chat with Alice moves from Bob's phone to his PC
 * mid-conversation, and both directions go on. The chat app is migration-aware on both devices:
 * the phone's exports where the conversation stands, the PC's imports it with the resumed stream
 * and carries on. Checks that Alice received Bob's lines once, in order, that every line she sent
 * reached exactly one of Bob's devices, in order, and that the PC received the exported state.
 */
export async function runChatScenario(stack: DemoStack, chat: ChatServer, say: Narrator): Promise<boolean> {
  const { phone, pc } = stack.devices;
  const destination = `127.0.0.1:${chat.port}`;
  let phoneLines: LineReader | undefined;
  let exported: ChatState | undefined;
  const handoff = deferred<{ state: JsonValue; stream: Duplex; from: string | undefined }>();

  const unregisterPhone = phone.apps.register<ChatState>({
    name: 'chat',
    owns: (c) => c.destination === destination,
    exportState: () => (exported = { nick: 'bob', peer: 'alice', linesShown: phoneLines?.all.length ?? 0, lastLine: phoneLines?.all.at(-1) ?? '' }),
  });
  // The PC's chat takes the stream over and keeps it until the conversation ends.
  const unregisterPc = pc.apps.register({
    name: 'chat',
    importState: async (state, stream, ctx) => {
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      handoff.resolve({ state, stream, from: ctx.from });
      await closed;
    },
  });
  let pcStream: Duplex | undefined;
  try {
    say.step(6, "Bob chats with Alice on his phone (through the phone's agent and the proxy)");
    const { socket } = await connectViaProxy('127.0.0.1', chat.port, { proxy: phone.socks });
    // The proxy ends the phone's side once the PC took over; the phone's app closes too.
    socket.on('end', () => socket.end());
    const phoneReader = lineReader(socket);
    phoneLines = phoneReader;
    say.say(`   phone ← ${await phoneReader.next()}`);
    for (const text of ['on my way home', 'almost there']) {
      socket.write(`bob: ${text}\n`);
      say.say(`   phone → bob: ${text}`);
      say.say(`   phone ← ${await phoneReader.next()}`);
    }
    socket.write('bob: switching to my PC\n');
    say.say('   phone → bob: switching to my PC');

    say.step(7, 'Bob moves the conversation to his PC, mid-conversation');
    const conn = await findLiveConnection(phone, destination);
    say.say(`   $ tsmp migrate ${conn.id} --to pc`);
    const result = await moveViaAgent(phone, conn.id, 'pc');
    say.say(`   the phone's chat exported ${JSON.stringify(exported)}`);
    say.say(`   migration ${result.id} ${result.state}:`);
    say.migration(result, { device: 'pc', record: await incomingRecord(pc, result.id, 'attached'), phases: ['received', 'attached'] });
    const imported = await within("the PC's chat importing the conversation", handoff.promise, 10_000);
    pcStream = imported.stream;
    say.say(`   the PC's chat imported ${JSON.stringify(imported.state)} (from ${imported.from ?? 'an unknown device'})`);
    const pcLines = lineReader(imported.stream);
    for (const text of ['home now, on the PC', 'see you tomorrow']) {
      imported.stream.write(`bob: ${text}\n`);
      say.say(`   pc    → bob: ${text}`);
    }
    // Three answers are due: to the line sent from the phone just before the move, and to the
    // two from the PC. Each reaches exactly one device.
    const expected = 1 + 5; // Alice's greeting, and one answer per line of Bob's
    await waitFor("Alice's answers", () => phoneReader.all.length + pcLines.all.length >= expected, 10_000).catch(() => undefined);
    for (const line of pcLines.all) say.say(`   pc    ← ${line}`);
    imported.stream.end();
    await sleep(100);

    const bobSent = ['bob: on my way home', 'bob: almost there', 'bob: switching to my PC', 'bob: home now, on the PC', 'bob: see you tomorrow'];
    const upstreamOk = JSON.stringify(chat.received) === JSON.stringify(bobSent);
    const downstreamOk = JSON.stringify([...phoneReader.all, ...pcLines.all]) === JSON.stringify(chat.sent);
    const stateOk = exported !== undefined && JSON.stringify(imported.state) === JSON.stringify(exported) && imported.from === phone.did;
    if (upstreamOk) say.ok(`Alice received Bob's ${bobSent.length} lines exactly once, in order`);
    else say.fail(`Alice received ${JSON.stringify(chat.received)}`);
    if (downstreamOk) say.ok(`Alice's ${chat.sent.length} lines reached the phone (${phoneReader.all.length}) then the PC (${pcLines.all.length}), none lost or repeated`);
    else say.fail(`downstream lines differ: Alice sent ${JSON.stringify(chat.sent)}`);
    if (stateOk) say.ok(`the PC's chat received the state the phone exported, from ${phone.did}`);
    else say.fail(`the PC's chat received ${JSON.stringify(imported.state)} from ${imported.from}; the phone exported ${JSON.stringify(exported)}`);
    return upstreamOk && downstreamOk && stateOk && result.state === 'done';
  } finally {
    pcStream?.destroy();
    unregisterPhone();
    unregisterPc();
  }
}
