import { runBankScenario } from '../mtcp/examples/bank-scenario.js';

/**
 * `tsmp demo bank` (the lead wires the command): bank front-ends on the M-TCP kit over PostgreSQL
 * (`TSMP_MTCP_PG_URL`, default the CI database), two clients running transfer sequences while
 * front-ends are migrated and one is shut down. Prints the checks; returns true when all hold.
 */
export async function runBankDemo(
  url = process.env.TSMP_MTCP_PG_URL ?? 'postgres://tsmp:tsmp@127.0.0.1:5432/tsmp_mtcp',
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<boolean> {
  const r = await runBankScenario({ url, clients: 2, transfersPerClient: 120, log: (l) => out(`  ${l}`) });
  out(`${r.transfers} transfers applied; migrations: ${r.migrations.demand} on demand, ${r.migrations.failure} after failure (killed: ${r.killed.join(', ') || 'none'})`);
  for (const [name, ok] of Object.entries(r.checks)) out(`  ${ok ? 'ok  ' : 'FAIL'} ${name}`);
  out(`  total balance ${r.total.before} before, ${r.total.after} after`);
  return Object.values(r.checks).every(Boolean);
}
