import pg from 'pg';

/**
 * PostgreSQL side of the bank demo (issue 5, "Transactions"). Each transfer is applied in one
 * transaction together with its idempotency key (client id, client sequence number), so replaying
 * a transfer after a migration never applies it twice; the stored reply is returned instead, so
 * the reply bytes are the same on any front-end (the kit needs deterministic output).
 */
export interface BankSchema {
  pool: pg.Pool;
  schema: string;
}

export async function createBankSchema(url: string, schema: string, accounts: Record<string, number>): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(`CREATE TABLE ${schema}.accounts (id text PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))`);
    await c.query(`CREATE TABLE ${schema}.transfers (
      client_id text NOT NULL, seq bigint NOT NULL, from_acct text NOT NULL, to_acct text NOT NULL,
      amount bigint NOT NULL, reply text NOT NULL, applied_order bigserial,
      PRIMARY KEY (client_id, seq))`);
    for (const [id, balance] of Object.entries(accounts)) await c.query(`INSERT INTO ${schema}.accounts VALUES ($1, $2)`, [id, balance]);
  } finally {
    await c.end();
  }
}

export async function dropBankSchema(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

export interface Transfer {
  clientId: string;
  seq: number;
  from: string;
  to: string;
  amount: number;
}

/** Applies a transfer exactly once; returns the reply line (without `\n`), the same every time. */
export async function applyTransfer(pool: pg.Pool, schema: string, t: Transfer): Promise<string> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    try {
      // The key first: a concurrent duplicate waits here for the first one's outcome.
      const ins = await c.query(
        `INSERT INTO ${schema}.transfers (client_id, seq, from_acct, to_acct, amount, reply) VALUES ($1, $2, $3, $4, $5, '')
         ON CONFLICT (client_id, seq) DO NOTHING RETURNING seq`,
        [t.clientId, t.seq, t.from, t.to, t.amount],
      );
      if (ins.rowCount === 0) {
        const prev = await c.query(`SELECT reply FROM ${schema}.transfers WHERE client_id = $1 AND seq = $2`, [t.clientId, t.seq]);
        await c.query('COMMIT');
        return prev.rows[0].reply as string;
      }
      // Lock both accounts in a fixed order (no deadlock between opposite transfers).
      const ids = [t.from, t.to].sort();
      const rows = await c.query(`SELECT id, balance FROM ${schema}.accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE`, [ids]);
      const from = rows.rows.find((r: { id: string }) => r.id === t.from) as { balance: string } | undefined;
      let reply: string;
      if (!from || !rows.rows.some((r: { id: string }) => r.id === t.to) || t.from === t.to) reply = `REFUSED ${t.seq} unknown-account`;
      else if (Number(from.balance) < t.amount) reply = `REFUSED ${t.seq} insufficient-funds`;
      else {
        await c.query(`UPDATE ${schema}.accounts SET balance = balance - $2 WHERE id = $1`, [t.from, t.amount]);
        await c.query(`UPDATE ${schema}.accounts SET balance = balance + $2 WHERE id = $1`, [t.to, t.amount]);
        reply = `OK ${t.seq}`;
      }
      await c.query(`UPDATE ${schema}.transfers SET reply = $3 WHERE client_id = $1 AND seq = $2`, [t.clientId, t.seq, reply]);
      await c.query('COMMIT');
      return reply;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    c.release();
  }
}
