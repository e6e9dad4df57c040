import { readdirSync, readFileSync } from 'node:fs';

/** VmRSS of one process in bytes (Linux /proc/PID/status), or 0 if it is gone. */
export function vmRssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** `pid` and all its descendants, so that a proxy running several worker processes is counted whole. */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 is the ppid; the command (field 2) may hold spaces, so split after its ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(fields[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** Summed VmRSS of a process tree, and how many processes it has. */
export function treeRss(pid: number): { bytes: number; processes: number } {
  const pids = processTree(pid);
  return { bytes: pids.reduce((sum, p) => sum + vmRssBytes(p), 0), processes: pids.length };
}

/** Open file descriptors of a process tree (Linux /proc/PID/fd). */
export function treeFds(pid: number): number {
  let n = 0;
  for (const p of processTree(pid)) {
    try {
      n += readdirSync(`/proc/${p}/fd`).length;
    } catch {
      // gone
    }
  }
  return n;
}
