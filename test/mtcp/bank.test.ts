import { describe, expect, it } from 'vitest';
import { runBankScenario } from '../../src/mtcp/examples/bank-scenario.js';
import { reachablePostgres } from './support/services.js';

const url = await reachablePostgres();
if (!url) console.log('SKIP M-TCP bank tests: no PostgreSQL at TSMP_MTCP_PG_URL / postgres://tsmp:tsmp@127.0.0.1:5432/tsmp_mtcp (run scripts/ci-mtcp.sh)');

describe.skipIf(!url)('bank front-ends on the kit, PostgreSQL behind', () => {
  it('transfers survive migrations and a front-end shutdown: exactly once, conserved, in order, nothing open', async () => {
    const r = await runBankScenario({ url: url!, clients: 2, transfersPerClient: 120 });
    expect(r.transfers).toBe(240);
    expect(r.killed).toHaveLength(1);
    expect(r.migrations.failure).toBeGreaterThanOrEqual(1);
    expect(r.migrations.demand).toBeGreaterThanOrEqual(2);
    expect(r.checks).toEqual({ exactlyOnce: true, balanceConserved: true, orderPreserved: true, noOpenTransactions: true, repliesExact: true });
    expect(r.total.after).toBe(r.total.before);
  }, 90_000);
});
