import { afterEach, describe, expect, it } from 'vitest';
import { Topology } from '../../src/netem/topology.js';
import { cleanupStale, listNamespaces } from '../../src/netem/teardown.js';
import { newRunNames } from '../../src/netem/run-names.js';
import { runCommand } from '../../src/netem/run-command.js';
import { NetemConfigError } from '../../src/netem/errors.js';
import { measureConnectRtt, startProbeServer } from '../../src/netem/probes.js';
import { leftovers, netemSkipReason } from './netem-support.js';

const skip = await netemSkipReason('test/netem/topology.test.ts');

describe.skipIf(skip !== null)('emulated topology', () => {
  const built: Topology[] = [];
  afterEach(() => {
    for (const t of built.splice(0)) t.down();
  });

  it('builds hosts behind a router in 198.18.0.0/15 and leaves nothing after down()', async () => {
    const run = newRunNames();
    const topo = await Topology.create({ hosts: [{ name: 'alice', link: { delayMs: 1, rateKbit: 5000 } }, { name: 'bob' }] }, undefined, run);
    built.push(topo);
    const names = await listNamespaces();
    expect(names).toEqual(expect.arrayContaining([topo.router, topo.host('alice').ns, topo.host('bob').ns]));
    expect(topo.host('alice').address).toMatch(/^198\.1[89]\./);
    const addr = await topo.exec('bob', 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(addr.stdout).toContain(`${topo.host('bob').address}/24`);
    const qdisc = await runCommand('tc', ['-n', topo.host('alice').ns, 'qdisc', 'show', 'dev', 'eth0']);
    expect(qdisc.stdout).toMatch(/tbf .*rate 5Mbit/);
    const routerLinks = (await runCommand('ip', ['-n', topo.router, '-o', 'link'])).stdout;
    expect(routerLinks).toContain('r-alice');
    expect(routerLinks).toContain(`${run.compact}d`);
    topo.down();
    topo.down(); // idempotent
    expect(await leftovers(run.prefix, run.compact)).toEqual([]);
  });

  it('routes undelayed paths around the forwarder and delayed ones through it', async () => {
    const topo = await Topology.create({ hosts: [{ name: 'srv' }, { name: 'fast' }, { name: 'slow', link: { delayMs: 10 } }] });
    built.push(topo);
    const { port } = await startProbeServer(topo, 'srv');
    // The worker reports its counters now and then: give it time before each reading.
    const packets = async () => (await new Promise((r) => setTimeout(r, 300)), topo.forwarderStats()!.packetsIn);
    const before = await packets();
    const fast = await measureConnectRtt(topo, 'fast', 'srv', port, 5);
    expect(await packets()).toBe(before);
    expect(Math.min(...fast)).toBeLessThan(5);
    const slow = await measureConnectRtt(topo, 'slow', 'srv', port, 5);
    expect(await packets()).toBeGreaterThan(before);
    expect(Math.min(...slow)).toBeGreaterThanOrEqual(19.5);
  });

  it('removes what it built when building fails half-way', async () => {
    const run = newRunNames();
    // The forwarder rejects its bound after namespaces, veths and qdiscs exist.
    await expect(Topology.create({ hosts: [{ name: 'a', link: { delayMs: 5 } }, { name: 'b' }], forwarder: { maxQueueBytes: 10 } }, undefined, run))
      .rejects.toBeInstanceOf(NetemConfigError);
    expect(await leftovers(run.prefix, run.compact)).toEqual([]);
  });

  it('rejects bad host names and duplicate hosts before touching the machine', async () => {
    const run = newRunNames();
    await expect(Topology.create({ hosts: [{ name: 'Bad_Name' }] }, undefined, run)).rejects.toBeInstanceOf(NetemConfigError);
    await expect(Topology.create({ hosts: [{ name: 'a' }, { name: 'a' }] }, undefined, run)).rejects.toBeInstanceOf(NetemConfigError);
    expect(await leftovers(run.prefix, run.compact)).toEqual([]);
  });

  it('cleanupStale removes a dead run and spares a live one', async () => {
    const dead = await new Promise<number>((resolve) => {
      import('node:child_process').then(({ spawn }) => {
        const c = spawn('true');
        c.on('exit', () => resolve(c.pid!));
      });
    });
    const staleRun = newRunNames(dead);
    const staleNs = `${staleRun.prefix}x`;
    await runCommand('ip', ['netns', 'add', staleNs]);
    const live = await Topology.create({ hosts: [{ name: 'h' }] });
    built.push(live);
    try {
      const removed = await cleanupStale();
      expect(removed).toContain(staleNs);
      const names = await listNamespaces();
      expect(names).not.toContain(staleNs);
      expect(names).toContain(live.host('h').ns);
    } finally {
      await runCommand('ip', ['netns', 'delete', staleNs], { allowFailure: true });
    }
  });
});
