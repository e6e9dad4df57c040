import net from 'node:net';
import { PerformanceObserver, constants } from 'node:perf_hooks';
const [mode, listenPort, srcPort] = [process.argv[2], +process.argv[3], +process.argv[4]];
let major = 0, minor = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) { if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++; else minor++; } }).observe({ entryTypes: ['gc'] });
const TRIM = 256 * 1024;
const pool = [];
const shared = Buffer.allocUnsafe(65536);
net.createServer((dev) => {
  if (mode === 'onread') {
    // blocks: [{buf, used, pending}] ; simplest: copy each read into a fresh-or-pooled 64K block
    const held = []; let since = 0;
    const up = net.connect({ port: srcPort, onread: { buffer: shared, callback: (n, buf) => {
      const b = pool.pop() ?? Buffer.allocUnsafeSlow(65536);
      buf.copy(b, 0, 0, n);
      held.push(b);
      since += n;
      const ok = dev.write(b.subarray(0, n));
      if (since >= TRIM && dev.writableLength === 0) { for (const x of held.splice(0, held.length)) pool.push(x); since = 0; }
      if (!ok) { up.pause(); }
      return true;
    } } });
    dev.on('drain', () => { if (dev.writableLength === 0) { for (const x of held.splice(0, held.length)) pool.push(x); since = 0; } up.resume(); });
    dev.on('error', () => up.destroy()); up.on('error', () => dev.destroy()); dev.on('close', () => up.destroy());
  } else {
    const up = net.connect(srcPort);
    let held = []; let since = 0;
    up.on('data', (c) => {
      if (mode === 'retain') { held.push(c); since += c.length; if (since >= TRIM) { held = []; since = 0; } }
      if (!dev.write(c)) up.pause();
    });
    dev.on('drain', () => up.resume());
    dev.on('error', () => up.destroy()); up.on('error', () => dev.destroy()); dev.on('close', () => up.destroy());
  }
}).listen(listenPort, '127.0.0.1', () => process.send?.('ready'));
process.on('message', (m) => { if (m === 'stats') process.send({ major, minor, cpu: process.cpuUsage() }); });
