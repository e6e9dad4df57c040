import type { Socket } from 'node:net';
import { startChatServer } from './alice-servers.js';
import type { DemoWorld } from './demo-world.js';
import type { Narrator } from './narrator.js';

/** Reads lines from a socket; `next()` waits, bounded, for the next unread one. */
function lineReader(socket: Socket) {
  const all: string[] = [];
  let pending = '';
  let read = 0;
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      all.push(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  socket.on('error', () => {});
  socket.resume();
  return {
    all,
    async next(timeoutMs = 5_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (read >= all.length) {
        if (Date.now() > deadline) throw new Error(`no chat line within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return all[read++]!;
    },
  };
}

/**
 * The instant-messaging scenario: a chat with Alice moves from Bob's phone to his PC
 * mid-conversation, and both directions go on. Checks that Alice received Bob's lines once, in
 * order, and that every line she sent reached exactly one of Bob's devices, in order.
 */
export async function runChatScenario(world: DemoWorld, say: Narrator): Promise<boolean> {
  const chat = await startChatServer();
  try {
    say.step(6, "Bob chats with Alice on his phone");
    const phone = await world.tunnel('phone', '127.0.0.1', chat.port);
    const phoneLines = lineReader(phone.socket);
    say.say(`   phone ← ${await phoneLines.next()}`);
    for (const text of ['on my way home', 'almost there']) {
      phone.socket.write(`bob: ${text}\n`);
      say.say(`   phone → bob: ${text}`);
      say.say(`   phone ← ${await phoneLines.next()}`);
    }
    phone.socket.write('bob: switching to my PC\n');
    say.say('   phone → bob: switching to my PC');

    say.step(7, 'Bob moves the conversation to his PC, mid-conversation');
    const [conn] = (await world.api<{ connections: { id: string }[] }>('phone', 'GET', '/v1/connections')).connections;
    const m = await world.api<{ id: string; ticket: string }>('phone', 'POST', `/v1/connections/${conn!.id}/migrate`, { to: 'pc' });
    const pc = await world.tunnel('pc', `${m.ticket}.ticket.tsmp.invalid`, 1);
    const pcLines = lineReader(pc.socket);
    const result = await world.migrationResult('pc', m.id);
    say.migration(result);
    for (const text of ['home now, on the PC', 'see you tomorrow']) {
      pc.socket.write(`bob: ${text}\n`);
      say.say(`   pc    → bob: ${text}`);
    }
    // Three answers are due: to the line sent from the phone just before the move, and to two
    // from the PC. Each reaches exactly one device.
    const expected = 1 + 5; // Alice's greeting, and one answer per line of Bob's
    const deadline = Date.now() + 10_000;
    while (phoneLines.all.length + pcLines.all.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const line of pcLines.all) say.say(`   pc    ← ${line}`);
    pc.socket.end();
    await new Promise((r) => setTimeout(r, 100));

    const bobSent = ['bob: on my way home', 'bob: almost there', 'bob: switching to my PC', 'bob: home now, on the PC', 'bob: see you tomorrow'];
    const upstreamOk = JSON.stringify(chat.received) === JSON.stringify(bobSent);
    const downstreamOk = JSON.stringify([...phoneLines.all, ...pcLines.all]) === JSON.stringify(chat.sent);
    const ok = upstreamOk && downstreamOk && result.state === 'done';
    if (upstreamOk) say.ok(`Alice received Bob's ${bobSent.length} lines exactly once, in order`);
    else say.fail(`Alice received ${JSON.stringify(chat.received)}`);
    if (downstreamOk) say.ok(`Alice's ${chat.sent.length} lines reached the phone (${phoneLines.all.length}) then the PC (${pcLines.all.length}), none lost or repeated`);
    else say.fail('downstream lines differ');
    return ok;
  } finally {
    await chat.close();
  }
}
