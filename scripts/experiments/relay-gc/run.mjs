import net from 'node:net';
import { fork } from 'node:child_process';
const chunk = Buffer.alloc(65536, 7);
const src = net.createServer((s) => { s.on('error', () => {}); const pump = () => { while (s.write(chunk)); }; s.on('drain', pump); pump(); });
await new Promise((r) => src.listen(0, '127.0.0.1', r));
const srcPort = src.address().port;
async function trial(mode, port, conns, secs) {
  const child = fork(new URL('./relay.mjs', import.meta.url).pathname, [mode, String(port), String(srcPort)]);
  await new Promise((r) => child.once('message', r));
  let bytes = 0; const socks = [];
  for (let i = 0; i < conns; i++) { const c = net.connect(port, '127.0.0.1'); c.on('data', (d) => (bytes += d.length)); c.on('error', () => {}); socks.push(c); }
  await new Promise((r) => setTimeout(r, 500)); bytes = 0;
  const stats0 = await new Promise((r) => { child.once('message', r); child.send('stats'); });
  await new Promise((r) => setTimeout(r, secs * 1000));
  const b = bytes;
  const stats = await new Promise((r) => { child.once('message', r); child.send('stats'); });
  for (const s of socks) s.destroy(); child.kill();
  return { mode, MBps: Math.round(b / secs / 1e6), major: stats.major - stats0.major, minor: stats.minor - stats0.minor, cpuS: ((stats.cpu.user + stats.cpu.system - stats0.cpu.user - stats0.cpu.system) / 1e6).toFixed(2), cpuPerGB: (((stats.cpu.user + stats.cpu.system - stats0.cpu.user - stats0.cpu.system) / 1e6) / (b / 1e9)).toFixed(2) };
}
let port = 40100;
for (let round = 0; round < 3; round++) for (const mode of ['pipe', 'retain', 'onread']) console.log(round, JSON.stringify(await trial(mode, port++, 100, 3)));
src.close(); process.exit(0);
