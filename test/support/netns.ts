import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** True when this process may create network namespaces (root with `ip netns`). */
export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * One namespace joined to this one by a veth pair, on a /30 inside 198.18.0.0/15 (RFC 2544's
 * benchmarking range). `remove()` deletes both, and is safe to call twice.
 */
export function createNamespacePeer(): { ns: string; hostAddress: string; nsAddress: string; exec(args: string[]): string; remove(): void } {
  const id = randomBytes(3).toString('hex');
  const ns = `tsmp-t-${id}`;
  const hostDev = `vt${id}h`;
  const octet = 4 * (Number.parseInt(id.slice(0, 2), 16) % 64);
  const hostAddress = `198.19.${Number.parseInt(id.slice(2, 4), 16)}.${octet + 1}`;
  const nsAddress = `198.19.${Number.parseInt(id.slice(2, 4), 16)}.${octet + 2}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe', encoding: 'utf8' });
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    try { ip('netns', 'del', ns); } catch { /* already gone */ }
    try { ip('link', 'del', hostDev); } catch { /* went with the namespace */ }
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostDev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostDev);
    ip('link', 'set', hostDev, 'up');
    ip('-n', ns, 'addr', 'add', `${nsAddress}/30`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (err) {
    remove();
    throw err;
  }
  return { ns, hostAddress, nsAddress, exec: (args) => ip('netns', 'exec', ns, ...args), remove };
}
