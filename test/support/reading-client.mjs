// A device application in its own process: opens a SOCKS5 tunnel and reads, printing how many
// bytes it has read after each chunk, so the test can SIGKILL it mid-stream.
import { connect } from 'node:net';

// The proxy is PORT (on loopback) or HOST:PORT.
const [proxyAt, user, pass, host, port] = process.argv.slice(2);
const [proxyHost, proxyPort] = proxyAt.includes(':') ? proxyAt.split(':') : ['127.0.0.1', proxyAt];
const s = connect(Number(proxyPort), proxyHost);
let stage = 0;
let buf = Buffer.alloc(0);
let count = 0;
s.on('connect', () => s.write(Buffer.from([5, 1, 2])));
s.on('data', (d) => {
  if (stage === 3) {
    count += d.length;
    process.stdout.write(`${count}\n`);
    return;
  }
  buf = Buffer.concat([buf, d]);
  if (stage === 0 && buf.length >= 2) {
    buf = buf.subarray(2);
    const u = Buffer.from(user), p = Buffer.from(pass);
    s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
    stage = 1;
  }
  if (stage === 1 && buf.length >= 2) {
    if (buf[1] !== 0) process.exit(3);
    buf = buf.subarray(2);
    const h = Buffer.from(host);
    const n = Number(port);
    s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, h.length]), h, Buffer.from([n >> 8, n & 255])]));
    stage = 2;
  }
  if (stage === 2 && buf.length >= 10) {
    if (buf[1] !== 0) process.exit(4);
    const rest = buf.subarray(10);
    stage = 3;
    process.stdout.write('ready\n');
    if (rest.length) {
      count += rest.length;
      process.stdout.write(`${count}\n`);
    }
  }
});
s.on('error', () => process.exit(5));
