import { runMigration, runSingle } from './scenarios.js';
import type { Access } from './paper-network.js';

/** Development aid: one scenario, printed as JSON. argv: single ACCESS | migrate FROM TO [BG]. */
const [what = 'migrate', a = 'wlan', b = 'wlan', bg = '0'] = process.argv.slice(2);
const base = { rateKbit: 1000, background: Number(bg), fileBytes: 800_000, proxyMaxBuffer: 65_536, proxySocketBuffer: 131_072, backgroundBytesPerSec: 256 };
const r = what === 'single' ? await runSingle(a as Access, base) : await runMigration(a as Access, b as Access, base, true);
console.log(JSON.stringify(r, null, 2));
