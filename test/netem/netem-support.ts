import { netemPreflight } from '../../src/netem/preflight.js';
import { runCommand } from '../../src/netem/run-command.js';

/** Checked once per file; prints the one line that says why the file is skipped. */
export async function netemSkipReason(file: string): Promise<string | null> {
  const pre = await netemPreflight();
  if (pre.ok) return null;
  console.log(`skipping ${file}: emulated network unavailable (${pre.reason})`);
  return pre.reason;
}

/** Everything of a run still visible on the machine: namespaces and root-namespace links. */
export async function leftovers(prefix: string, compact: string): Promise<string[]> {
  const ns = (await runCommand('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(prefix));
  const links = (await runCommand('ip', ['-o', 'link'])).stdout.split('\n').filter((l) => l.includes(compact) || l.includes(prefix));
  return [...ns, ...links];
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
