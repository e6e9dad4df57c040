import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { TimeoutError } from '../../common/errors.js';
import { JsonLines } from './json-lines.js';
import { PairingError, PairingSession, type PairingSecret } from './pairing-session.js';

export interface FlowOptions {
  /** Asks the local user whether both screens show `sas`. */
  confirm: (sas: string) => Promise<boolean>;
  /** Bound on each wait for the other device (the user's confirmation included). @default 120000 */
  stepTimeoutMs?: number;
}

/**
 * Introducer side over a socket: runs the session, and once both users confirmed, sends the
 * secret made by `makeSecret` (which creates the name server's pairing code only then).
 */
export async function introduce(socket: Socket, makeSecret: () => Promise<PairingSecret>, o: FlowOptions): Promise<{ did: string; sas: string }> {
  const timeout = o.stepTimeoutMs ?? 120_000;
  const lines = new JsonLines(socket);
  const session = new PairingSession('introducer');
  try {
    lines.send(session.begin());
    while (!session.sas) lines.send(session.receive(await lines.next(timeout)));
    const sas = session.sas;
    const same = await o.confirm(sas);
    lines.send(session.confirm(same));
    if (!same) throw new PairingError('ERR_PAIRING_MISMATCH', 'the codes did not match; nothing was sent');
    while (!session.bothConfirmed) lines.send(session.receive(await lines.next(timeout)));
    lines.send(session.seal(await makeSecret()));
    const done = await lines.next(timeout);
    session.receive(done);
    if (done.t !== 'done') throw new PairingError('ERR_PAIRING_PROTOCOL', 'no confirmation from the new device');
    return { did: done.did, sas };
  } catch (err) {
    if (session.state !== 'failed') lines.send({ t: 'abort', reason: (err as Error).message.slice(0, 200) });
    throw err;
  } finally {
    lines.close();
  }
}

/**
 * New-device side: answers one introducer on `socket`, then claims the DID with `claim` and
 * reports it back.
 */
export async function acceptIntroduction(socket: Socket, claim: (secret: PairingSecret) => Promise<string>, o: FlowOptions): Promise<{ did: string; sas: string }> {
  const timeout = o.stepTimeoutMs ?? 120_000;
  const lines = new JsonLines(socket);
  const session = new PairingSession('newcomer');
  try {
    while (!session.sas) lines.send(session.receive(await lines.next(timeout)));
    const sas = session.sas;
    const same = await o.confirm(sas);
    lines.send(session.confirm(same));
    if (!same) throw new PairingError('ERR_PAIRING_MISMATCH', 'the codes did not match');
    const m = await lines.next(timeout);
    if (m.t !== 'secret') session.receive(m); // an abort, or a protocol error
    const secret = session.open(m as Extract<typeof m, { t: 'secret' }>);
    const did = await claim(secret);
    lines.send({ t: 'done', did });
    return { did, sas };
  } catch (err) {
    if (session.state !== 'failed' && session.state !== 'done') lines.send({ t: 'abort', reason: (err as Error).message.slice(0, 200) });
    throw err;
  } finally {
    lines.close();
  }
}

/** Listens for one introducer; `onListening` gives the port to advertise. */
export async function listenForIntroducer(host: string, onListening: (port: number) => Promise<void> | void, timeoutMs: number): Promise<Socket> {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError('waiting for one of your devices to introduce this one', timeoutMs)), timeoutMs);
    server.once('connection', (s: Socket) => {
      clearTimeout(timer);
      resolve(s);
    });
  });
  accepted.catch(() => undefined);
  try {
    server.listen(0, host);
    await once(server, 'listening');
    await onListening((server.address() as { port: number }).port);
    return await accepted;
  } finally {
    server.close();
  }
}

export async function dial(host: string, port: number, timeoutMs = 10_000): Promise<Socket> {
  const socket = connect({ host, port });
  const timer = setTimeout(() => socket.destroy(new TimeoutError(`connecting to ${host}:${port}`, timeoutMs)), timeoutMs);
  try {
    await once(socket, 'connect');
    return socket;
  } finally {
    clearTimeout(timer);
  }
}
