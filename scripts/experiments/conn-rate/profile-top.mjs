// Summarises a V8 .cpuprofile: self time per function (and per file), and total (inclusive) time
// of the functions whose name or file matches --match.
//   node scripts/experiments/conn-rate/profile-top.mjs FILE.cpuprofile [--top 40] [--match REGEX]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' }, match: { type: 'string' }, tree: { type: 'string' }, depth: { type: 'string', default: '4' } } });
const prof = JSON.parse(readFileSync(positionals[0], 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const counts = new Map();
for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
const total = prof.samples.length;
const name = (n) => {
  const f = n.callFrame;
  const file = f.url ? f.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:/, '') : '';
  return `${f.functionName || '(anon)'} ${file}${file ? ':' + (f.lineNumber + 1) : ''}`;
};
const self = new Map();
const perFile = new Map();
let idle = 0;
for (const [id, c] of counts) {
  const n = byId.get(id);
  const k = name(n);
  if (n.callFrame.functionName === '(idle)') idle += c;
  self.set(k, (self.get(k) ?? 0) + c);
  const file = n.callFrame.url ? n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/') : n.callFrame.functionName;
  perFile.set(file, (perFile.get(file) ?? 0) + c);
}
const pct = (c) => ((100 * c) / total).toFixed(1).padStart(5) + '%';
const busy = total - idle;
console.log(`samples ${total}, idle ${pct(idle)}; percentages below are of all samples (busy = ${pct(busy)})`);
console.log('--- self time by function');
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(pct(c), k);
console.log('--- self time by file');
for (const [k, c] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(pct(c), k);
if (values.match) {
  const re = new RegExp(values.match);
  const incl = new Map();
  for (const [id, c] of counts) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur));
      if (!re.test(k) || seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + c);
    }
  }
  console.log(`--- inclusive time of /${values.match}/`);
  for (const [k, c] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(pct(c), k);
}
if (values.tree) {
  // Top-down tree of every node whose name matches --tree, merged by name, children by inclusive time.
  const re = new RegExp(values.tree);
  const inclOf = new Map();
  const incl = (id) => {
    if (inclOf.has(id)) return inclOf.get(id);
    const n = byId.get(id);
    let v = counts.get(id) ?? 0;
    for (const c of n.children ?? []) v += incl(c);
    inclOf.set(id, v);
    return v;
  };
  const merged = { name: values.tree, v: 0, kids: new Map() };
  const add = (into, id, depth) => {
    const k = name(byId.get(id));
    let m = into.kids.get(k);
    if (!m) into.kids.set(k, (m = { name: k, v: 0, kids: new Map() }));
    m.v += incl(id);
    if (depth < Number(values.depth)) for (const c of byId.get(id).children ?? []) add(m, c, depth + 1);
  };
  const roots = prof.nodes.filter((n) => re.test(name(n)) && !(() => { for (let p = parent.get(n.id); p !== undefined; p = parent.get(p)) if (re.test(name(byId.get(p)))) return true; return false; })());
  for (const r of roots) add(merged, r.id, 0);
  const print = (m, indent) => {
    for (const k of [...m.kids.values()].sort((a, b) => b.v - a.v)) {
      if ((100 * k.v) / total < 0.1) continue;
      console.log(`${' '.repeat(indent)}${pct(k.v)} ${k.name}`);
      print(k, indent + 2);
    }
  };
  console.log(`--- tree under /${values.tree}/`);
  print(merged, 0);
}
