import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { payloadBytes } from '../../netem/probe-scripts.js';
import { BenchError } from './bench-error.js';
import { responseHead, splitResponse } from './http-file.js';
import { migrationLowerBound, type LowerBound } from './lower-bound.js';
import { ACCESS_RTT_MS, type Access } from './paper-network.js';
import { PaperSession, type SessionOptions } from './paper-session.js';
import { readCounters, readServerState, tcpChange, type TcpChange } from './tcp-state.js';
import type { Event } from './jsonl-child.js';

/** When the old device requests the migration (the paper: the 5th second of the transfer). */
export const MIGRATE_AT_MS = 5000;

export type RunOptions = Omit<SessionOptions, 'oldAccess' | 'newAccess'>;

export interface TransferResult {
  label: string;
  totalMs: number;
  intact: boolean;
}

export interface MigrationResult extends TransferResult {
  from: Access;
  to: Access;
  rateKbit: number;
  background: number;
  /** Request sent by the old device → the proxy resumes reading the server (paper's definition). */
  delayMs: number;
  /** Our phases, ms after the request was sent. */
  phases: Record<string, number>;
  pushedMs: number | null;
  bytesCached: number;
  bytesReplayed: number;
  bound: LowerBound;
  tcp: TcpChange;
  /** How the old device was let go (fin / reset / lost) and why the wait for it ended. */
  oldDevice: string | null;
  drainOutcome: string | null;
  /** Bytes that may have reached the old device and were replayed too (0 after a FIN). */
  bytesInDoubt: number | null;
  /** Proxy processes (`--workers`) the run used. */
  proxyWorkers?: number;
  /** ms after the request: the new device's first byte of the migrated stream. */
  newFirstByteMs: number | null;
  /** Bytes Alice still had to send when the migration was requested (0: her side was done). */
  serverBytesLeft: number | null;
  state: string;
  /** The stream offset the proxy replayed from (bytes the old device acknowledged). */
  fromOffset: number;
  /**
   * Where the new device's bytes joined the old device's: 0 is seamless, negative means the new
   * device got that many bytes again, positive means a gap; null when not measured or unplaceable.
   */
  seamBytes: number | null;
}

/** Checks old + new == expected, and if not, where the new device's stream actually started. */
export function checkSplitStream(oldBytes: Buffer, newBytes: Buffer, expected: Buffer): { intact: boolean; seamBytes: number | null } {
  const intact = sha(Buffer.concat([oldBytes, newBytes])) === sha(expected);
  if (intact) return { intact, seamBytes: 0 };
  if (!expected.subarray(0, oldBytes.length).equals(oldBytes) || newBytes.length < 64) return { intact, seamBytes: null };
  // The payload is pseudo-random, so 64 bytes place the new stream unambiguously.
  const at = expected.indexOf(newBytes.subarray(0, 64));
  return { intact, seamBytes: at < 0 ? null : at - oldBytes.length };
}

const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
const expectedStream = (size: number): Buffer => Buffer.concat([Buffer.from(responseHead(size, 0), 'latin1'), payloadBytes('paper', size)]);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const transferTimeout = (o: RunOptions): number => ((o.fileBytes * 8) / o.rateKbit) * 4 + 60_000;
const linkTimes = (a: Access, rateKbit: number) => ({ upMs: ACCESS_RTT_MS[a] / 2, downMs: ACCESS_RTT_MS[a] / 2, rateKbit });

/** Table I, "WLAN only" / "3G only": one device downloads the file through the proxy. */
export async function runSingle(access: Access, o: RunOptions): Promise<TransferResult> {
  const s = await PaperSession.open({ ...o, oldAccess: access, newAccess: null });
  try {
    const dev = s.devices.old!;
    const out = join(s.dir, 'old.bin');
    dev.send({ op: 'download', tag: 'old', via: s.via('old'), dest: s.alice, out });
    const sent = await dev.waitFor((e) => e.ev === 'request-sent', 'request', 60_000);
    const end = await dev.waitFor((e) => e.ev === 'end', 'end of transfer', transferTimeout(o));
    return { label: `${access === 'wlan' ? 'WLAN' : '3G'} only`, totalMs: Number(end.t) - Number(sent.t), intact: readFileSync(out).equals(expectedStream(o.fileBytes)) };
  } finally {
    s.close();
  }
}

async function getMigration(s: PaperSession, id: string, seq: number): Promise<Record<string, unknown>> {
  const reqId = `m${seq}`;
  s.push.send({ op: 'get', id: reqId, control: s.control, cred: s.cred.old, path: `/v1/migrations/${id}` });
  const got = await s.push.waitFor((e) => e.ev === 'got' && e.id === reqId, 'migration status', 30_000);
  return got.body as Record<string, unknown>;
}

/**
 * A migration scenario: the old device downloads through the proxy and requests the migration
 * at the 5th second; the new device is pushed the request and attaches. With `full`, waits for
 * the whole transfer and checks the bytes; otherwise stops a second after the window reopened
 * (the sweeps only need the delay).
 */
export async function runMigration(from: Access, to: Access, o: RunOptions, full: boolean): Promise<MigrationResult> {
  const s = await PaperSession.open({ ...o, oldAccess: from, newAccess: to });
  try {
    const oldDev = s.devices.old!;
    const newDev = s.devices.new!;
    s.push.send({ op: 'listen', address: s.topo.host('proxy').address });
    const pushPort = Number((await s.push.waitFor((e) => e.ev === 'push-listening', 'push listener', 15_000)).port);
    newDev.send({ op: 'await-push', host: s.topo.host('proxy').address, port: pushPort });
    await newDev.waitFor((e) => e.ev === 'push-channel', 'push channel', 15_000);
    const newOut = join(s.dir, 'new.bin');
    s.push.send({ op: 'arm', control: s.control, cred: s.cred.new, via: s.via('new'), out: newOut, pollMs: 2, timeoutMs: MIGRATE_AT_MS + 120_000 });
    await s.push.waitFor((e) => e.ev === 'armed', 'push armed', 15_000);

    const oldOut = join(s.dir, 'old.bin');
    oldDev.send({ op: 'download', tag: 'old', via: s.via('old'), dest: s.alice, out: oldOut,
      migrate: { afterMs: MIGRATE_AT_MS, control: s.control, to: 'new' } });
    const sent = await oldDev.waitFor((e) => e.ev === 'request-sent', 'request', 60_000);
    const t0 = Number(sent.t);
    await sleepUntil(t0 + MIGRATE_AT_MS - 200);
    const [before, proxyBefore] = await Promise.all([readServerState(s.topo, s.aliceRole, 'before'), readCounters(s.topo, 'proxy')]);
    const accepted = await oldDev.waitFor((e) => e.ev === 'migrate-accepted', 'migration accepted', 60_000);
    const requestSent = Number((await oldDev.waitFor((e) => e.ev === 'migrate-sent', 'migrate sent', 1000)).t);
    const migration = accepted.migration as { id?: string };
    if (accepted.status !== 202 || !migration.id) throw new BenchError(`migration refused: ${JSON.stringify(accepted.migration)}`);

    let m: Record<string, unknown> = {};
    const deadline = Date.now() + 120_000;
    for (let i = 0; ; i++) {
      m = await getMigration(s, migration.id, i);
      const p = m.phases as Record<string, number>;
      if (p.resumed !== undefined || ['failed', 'rolled-back'].includes(String(m.state))) break;
      if (Date.now() > deadline) throw new BenchError(`migration ${migration.id} did not resume in 120 s (state ${String(m.state)})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const phases = m.phases as Record<string, number>;
    if (phases.resumed === undefined) throw new BenchError(`migration ${String(m.state)}: ${JSON.stringify(m.error ?? m)}`);
    await sleepUntil(phases.resumed + 1000);
    const [after, proxyAfter] = await Promise.all([readServerState(s.topo, s.aliceRole, 'after'), readCounters(s.topo, 'proxy')]);

    let totalMs = NaN;
    let intact = false;
    let seamBytes: number | null = null;
    if (full) {
      const endNew = await newDev.waitFor((e) => e.ev === 'end' && e.tag === 'attach', 'new device end', transferTimeout(o));
      await oldDev.waitFor((e) => e.ev === 'end' && e.tag === 'old', 'old device end', 60_000);
      totalMs = Number(endNew.t) - t0;
      const check = checkSplitStream(readFileSync(oldOut), readFileSync(newOut), expectedStream(o.fileBytes));
      intact = check.intact;
      seamBytes = check.seamBytes;
    }
    m = await getMigration(s, migration.id, 1e6);
    const pushed = s.push.all('pushed')[0] as Event | undefined;
    const rel = Object.fromEntries(Object.entries(m.phases as Record<string, number>).map(([k, v]) => [k, v - requestSent]));
    const headLen = responseHead(o.fileBytes, 0).length;
    const acked = before.sample?.open ? before.sample.bytesAcked : null;
    const firstNew = newDev.all('first-byte').find((e) => e.tag === 'attach');
    return {
      label: `${from === 'wlan' ? 'WLAN' : '3G'}→${to === 'wlan' ? 'WLAN' : '3G'}`, from, to, rateKbit: o.rateKbit, background: s.backgroundOpen,
      totalMs, intact, delayMs: phases.resumed - requestSent, phases: rel, pushedMs: pushed ? Number(pushed.t) - requestSent : null,
      bytesCached: Number(m.bytesCached ?? 0), bytesReplayed: Number(m.bytesReplayed ?? 0),
      oldDevice: (m.oldDevice as string | undefined) ?? null, drainOutcome: (m.drainOutcome as string | undefined) ?? null,
      bytesInDoubt: (m.bytesInDoubt as number | null | undefined) ?? null, newFirstByteMs: firstNew ? Number(firstNew.t) - requestSent : null,
      bound: migrationLowerBound(linkTimes(from, o.rateKbit), linkTimes(to, o.rateKbit), Number(m.bytesCached ?? 0)),
      tcp: tcpChange(before, after, proxyBefore, proxyAfter, phases.resumed), serverBytesLeft: acked === null ? 0 : Math.max(0, o.fileBytes + headLen - acked),
      state: String(m.state), fromOffset: Number(m.fromOffset ?? NaN), seamBytes,
    };
  } catch (err) {
    const tail = s.proxyStderr.trim().split('\n').slice(-5).join('\n');
    throw new BenchError(`${from}→${to}: ${(err as Error).message}${tail ? `\nproxy stderr:\n${tail}` : ''}`, { cause: err });
  } finally {
    s.close();
  }
}

/**
 * The alternative without tsmp (issue 6): the old device aborts at the 5th second and the new
 * device fetches the rest straight from the server with an HTTP Range request. The new device
 * starts the moment the old one aborts, which flatters the alternative (no user action time).
 */
export async function runRangeAlternative(from: Access, to: Access, o: RunOptions): Promise<TransferResult> {
  const s = await PaperSession.open({ ...o, oldAccess: from, newAccess: to, withProxy: false });
  try {
    const oldDev = s.devices.old!;
    const newDev = s.devices.new!;
    const oldOut = join(s.dir, 'old.bin');
    const newOut = join(s.dir, 'new.bin');
    oldDev.send({ op: 'download', tag: 'old', via: null, dest: s.alice, out: oldOut, abortAfterMs: MIGRATE_AT_MS });
    const sent = await oldDev.waitFor((e) => e.ev === 'request-sent', 'request', 60_000);
    await oldDev.waitFor((e) => e.ev === 'end', 'old device abort', MIGRATE_AT_MS + 30_000);
    const got = splitResponse(readFileSync(oldOut));
    const have = got ? got.body.length : 0;
    newDev.send({ op: 'download', tag: 'new', via: null, dest: s.alice, rangeFrom: have, out: newOut });
    const end = await newDev.waitFor((e) => e.ev === 'end', 'new device end', transferTimeout(o));
    const rest = splitResponse(readFileSync(newOut));
    const body = Buffer.concat([got?.body ?? Buffer.alloc(0), rest?.body ?? Buffer.alloc(0)]);
    return { label: `${from === 'wlan' ? 'WLAN' : '3G'}→${to === 'wlan' ? 'WLAN' : '3G'}, abort + Range`, totalMs: Number(end.t) - Number(sent.t), intact: body.equals(payloadBytes('paper', o.fileBytes)) };
  } finally {
    s.close();
  }
}

