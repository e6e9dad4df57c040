// Object counts and self sizes by constructor name in a .heapsnapshot (reachable objects only).
//   node scripts/experiments/conn-rate/snapshot-counts.mjs FILE.heapsnapshot [--top 40]
import { readFileSync } from 'node:fs';
const snap = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const top = Number(process.argv[process.argv.indexOf('--top') + 1] || 40);
const m = snap.snapshot.meta;
const F = m.node_fields.length;
const types = m.node_types[0];
const iType = m.node_fields.indexOf('type'), iName = m.node_fields.indexOf('name'), iSize = m.node_fields.indexOf('self_size');
const by = new Map();
for (let i = 0; i < snap.nodes.length; i += F) {
  const type = types[snap.nodes[i + iType]];
  if (type !== 'object' && type !== 'closure' && type !== 'native') continue;
  const key = `${type}:${snap.strings[snap.nodes[i + iName]]}`;
  const v = by.get(key) ?? { n: 0, size: 0 };
  v.n++;
  v.size += snap.nodes[i + iSize];
  by.set(key, v);
}
for (const [k, v] of [...by].sort((a, b) => b[1].n - a[1].n).slice(0, top)) console.log(String(v.n).padStart(8), String(v.size).padStart(10), k.slice(0, 120));
