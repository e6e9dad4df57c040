import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { MtcpClientConnection } from '../client/client-connection.js';
import { MtcpServer } from '../server/mtcp-server.js';
import { parsePoolConfig } from '../server/pool-config.js';
import { bankHandler } from './bank-frontend.js';
import { runTransfers } from './bank-client.js';
import { createBankSchema, dropBankSchema, type Transfer } from './bank-store.js';

export interface BankScenarioResult {
  transfers: number;
  migrations: { demand: number; failure: number };
  killed: string[];
  checks: { exactlyOnce: boolean; balanceConserved: boolean; orderPreserved: boolean; noOpenTransactions: boolean; repliesExact: boolean };
  total: { before: number; after: number };
}

/**
 * Front-ends on the kit (eager push between them), PostgreSQL behind; clients run long sequences
 * of transfers while front-ends are migrated on demand and one is shut down abruptly mid-sequence.
 * Then checks the four assertions of issue 5, plus that each client got every reply once, in order.
 */
export async function runBankScenario(opts: { url: string; clients?: number; transfersPerClient?: number; log?: (line: string) => void }): Promise<BankScenarioResult> {
  const log = opts.log ?? (() => {});
  const nClients = opts.clients ?? 2;
  const perClient = opts.transfersPerClient ?? 120;
  const schema = `bank_${randomBytes(4).toString('hex')}`;
  const accounts: Record<string, number> = { alice: 1000, bob: 1000, carol: 1000, dave: 1000 };
  const names = Object.keys(accounts);
  const totalBefore = Object.values(accounts).reduce((a, b) => a + b, 0);
  await createBankSchema(opts.url, schema, accounts);
  const pool = parsePoolConfig({ key: randomBytes(24).toString('hex'), members: ['f1', 'f2', 'f3'].map((id) => ({ id, address: '127.0.0.1:0' })), store: 'push' });
  const fronts = new Map<string, { server: MtcpServer; db: pg.Pool }>();
  const killed: string[] = [];
  try {
    for (const m of pool.members) {
      const db = new pg.Pool({ connectionString: opts.url, max: 4, connectionTimeoutMillis: 3000 });
      const server = new MtcpServer({ pool, id: m.id, handler: bankHandler(db, schema) });
      m.address = await server.listen();
      fronts.set(m.id, { server, db });
    }
    log(`3 front-ends (${pool.members.map((m) => `${m.id} ${m.address}`).join(', ')}) over PostgreSQL schema ${schema}`);
    const runs = Array.from({ length: nClients }, async (_, ci) => {
      const clientId = `client${ci + 1}`;
      const transfers: Transfer[] = Array.from({ length: perClient }, (_, i) => ({
        clientId,
        seq: i + 1,
        from: names[(i + ci) % names.length]!,
        to: names[(i + ci + 1 + (i % 2)) % names.length]!,
        amount: 1 + ((i * 37 + ci * 11) % 250),
      }));
      const conn = await new MtcpClientConnection({ address: pool.members[ci % 3]!.address, silenceTimeoutMs: 2000 }).connect();
      const replies = await runTransfers(conn, transfers, {
        timeoutMs: 60_000,
        onProgress: (done) => {
          if (done % Math.floor(perClient / 4) !== 0 || done === perClient) return;
          if (ci === 0 && done === Math.floor(perClient / 2) && killed.length === 0) {
            const victim = conn.member;
            killed.push(victim);
            log(`${clientId}: after ${done} replies, front-end ${victim} is shut down abruptly`);
            const f = fronts.get(victim)!;
            void f.server.close().then(() => f.db.end());
          } else {
            log(`${clientId}: after ${done} replies, migrating on demand from ${conn.member}`);
            conn.migrate().catch(() => {});
          }
        },
      });
      const migrations = { demand: conn.migrations.filter((m) => m.trigger === 'demand' && m.state === 'done').length, failure: conn.migrations.filter((m) => m.trigger === 'failure' && m.state === 'done').length };
      conn.destroy();
      return { transfers, replies, migrations };
    });
    const results = await Promise.all(runs);
    const check = new pg.Client({ connectionString: opts.url });
    await check.connect();
    try {
      const rows = (await check.query(`SELECT client_id, seq, from_acct, to_acct, amount, reply FROM ${schema}.transfers ORDER BY applied_order`)).rows as Array<{ client_id: string; seq: string; from_acct: string; to_acct: string; amount: string; reply: string }>;
      const bal = (await check.query(`SELECT id, balance FROM ${schema}.accounts`)).rows as Array<{ id: string; balance: string }>;
      const open = (await check.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`)).rows[0].n as number;
      const prepared = (await check.query(`SELECT count(*)::int AS n FROM pg_prepared_xacts`)).rows[0].n as number;
      const totalAfter = bal.reduce((a, r) => a + Number(r.balance), 0);
      // Exactly once: one row per (client, seq), for every transfer sent, and replaying the rows
      // in the order they were applied gives the balances the database holds.
      const expectedKeys = results.flatMap((r) => r.transfers.map((t) => `${t.clientId}/${t.seq}`)).sort();
      const keys = rows.map((r) => `${r.client_id}/${r.seq}`).sort();
      const sim = { ...accounts };
      for (const r of rows) if (r.reply.startsWith('OK')) ((sim[r.from_acct]! -= Number(r.amount)), (sim[r.to_acct]! += Number(r.amount)));
      const exactlyOnce = JSON.stringify(keys) === JSON.stringify(expectedKeys) && bal.every((b) => sim[b.id] === Number(b.balance));
      const orderPreserved = results.every((r) => {
        const seqs = rows.filter((x) => x.client_id === r.transfers[0]!.clientId).map((x) => Number(x.seq));
        return seqs.every((s, i) => s === i + 1);
      });
      const byKey = new Map(rows.map((r) => [`${r.client_id}/${r.seq}`, r.reply]));
      const repliesExact = results.every((r) => r.replies.length === r.transfers.length && r.replies.every((line, i) => byKey.get(`${r.transfers[i]!.clientId}/${i + 1}`) === line));
      const migrations = results.reduce((a, r) => ({ demand: a.demand + r.migrations.demand, failure: a.failure + r.migrations.failure }), { demand: 0, failure: 0 });
      return {
        transfers: rows.length,
        migrations,
        killed,
        checks: { exactlyOnce, balanceConserved: totalAfter === totalBefore, orderPreserved, noOpenTransactions: open === 0 && prepared === 0, repliesExact },
        total: { before: totalBefore, after: totalAfter },
      };
    } finally {
      await check.end();
    }
  } finally {
    for (const [id, f] of fronts) if (!killed.includes(id)) await f.server.close().then(() => f.db.end()).catch(() => {});
    await new Promise((r) => setTimeout(r, 50));
    await dropBankSchema(opts.url, schema).catch(() => {});
  }
}
