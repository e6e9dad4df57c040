// The tsmp agent dashboard: plain ES module, no build step. State arrives over Server-Sent Events
// from /api/events; every text goes through textContent, never innerHTML.
const PHASES = ['requested', 'paused', 'waiting', 'attached', 'firstByte', 'resumed', 'done'];
const FINAL = new Set(['done', 'rolled-back', 'failed', 'handled']);
const state = { status: null, devices: [], connections: [], migrations: [], lan: [] };
let liveMigration = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

const rate = (b) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB/s` : b >= 1e3 ? `${(b / 1e3).toFixed(0)} kB/s` : `${b} B/s`);
const bytes = (b) => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${b} B`);
const ms = (a, b) => (a && b ? `${Math.max(0, Math.round(b - a))} ms` : "–");
const shortDid = (did) => (did ? did.split('.')[0] : '–');
const ago = (iso) => {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 60 ? `${s}s ago` : `${Math.round(s / 60)} min ago`;
};

function renderStatus() {
  const s = state.status;
  if (!s) return;
  document.getElementById('self').textContent = s.did + (s.coa ? `  ·  ${s.coa}` : '');
  const pill = (label, ok) => el('span', { class: `pill ${ok ? 'ok' : 'bad'}` }, label);
  document.getElementById('health').replaceChildren(
    pill(`name server ${s.nameserver}`, s.nameserver === 'ok'),
    pill(`push ${s.push}`, s.push === 'open'),
    pill(`proxy ${s.proxy}`, s.proxy === 'ok'),
  );
}

function renderDevices() {
  const box = document.getElementById('devices');
  if (!state.devices.length) return box.replaceChildren(el('p', { class: 'empty' }, 'No devices yet.'));
  box.replaceChildren(
    ...state.devices.map((d) =>
      el(
        'div',
        { class: 'device', 'data-device': d.name },
        el(
          'div',
          { class: 'name' },
          el('span', { class: `dot ${d.status}` }),
          d.name,
          d.self ? el('span', { class: 'you' }, 'this device') : null,
          state.lan.some((p) => p.device === d.name) ? el('span', { class: 'you', title: 'seen over mDNS on this network' }, 'on this LAN') : null,
        ),
        el('div', { class: 'meta' }, `${d.status} · ${d.coa ?? 'no address'} · seen ${ago(d.lastSeen)}`),
      ),
    ),
  );
}

function renderConnections() {
  const body = document.querySelector('#connections tbody');
  const live = state.connections.filter((c) => c.state !== 'closed');
  if (!live.length) return body.replaceChildren(el('tr', { class: 'empty-row' }, el('td', { colspan: 8 }, 'No live connections.')));
  // Rows are updated in place, keyed by connection id, so a button under the pointer stays put.
  const rows = new Map([...body.querySelectorAll('tr[data-connection]')].map((r) => [r.dataset.connection, r]));
  const ordered = live.map((c) => {
    let row = rows.get(c.id);
    if (!row) {
      row = el('tr', { 'data-connection': c.id });
      for (let i = 0; i < 7; i++) row.append(el('td'));
      const button = el('button', { class: 'move' }, 'Move to…');
      row.append(el('td', {}, button));
    }
    const cells = row.children;
    const text = [c.id, c.destination, shortDid(c.device), null, rate(c.rateDown), rate(c.rateUp), bytes(c.bytesDown)];
    text.forEach((t, i) => {
      if (t !== null && cells[i].textContent !== t) cells[i].textContent = t;
    });
    cells[0].className = cells[1].className = 'mono';
    for (const i of [4, 5, 6]) cells[i].className = 'num';
    cells[3].replaceChildren(el('span', { class: `state ${c.state}` }, c.state));
    const button = cells[7].firstChild;
    button.disabled = c.state !== 'relaying';
    button.onclick = () => openMove(c);
    return row;
  });
  if (ordered.some((r, i) => body.children[i] !== r) || body.children.length !== ordered.length) body.replaceChildren(...ordered);
}

function renderMigrations() {
  const body = document.querySelector('#migrations tbody');
  if (!state.migrations.length) return body.replaceChildren(el('tr', { class: 'empty-row' }, el('td', { colspan: 8 }, 'None yet.')));
  body.replaceChildren(
    ...state.migrations.map((m) => {
      const p = m.phases || {};
      const end = p.done ?? p.handled ?? p.rolledBack ?? p.failed;
      return el(
        'tr',
        { 'data-migration': m.id },
        el('td', { class: 'mono' }, `${m.direction === 'incoming' ? '⇣' : '⇡'} ${m.id}`),
        el('td', { class: 'mono' }, m.connection),
        el('td', {}, `${shortDid(m.from)} → ${shortDid(m.to)}`),
        el('td', {}, el('span', { class: `state ${m.state}` }, m.state)),
        el('td', { class: 'mono' }, m.handler ?? '–'),
        el('td', { class: 'num' }, ms(p.paused, p.resumed)),
        el('td', { class: 'num' }, ms(p.requested ?? p.received, end)),
        el('td', { class: 'num' }, m.bytesReplayed !== undefined ? bytes(m.bytesReplayed) : m.outcome ? bytes(m.outcome.bytesIn) : '–'),
      );
    }),
  );
}

function renderLive() {
  const section = document.getElementById('live-migration');
  const m = liveMigration && state.migrations.find((x) => x.id === liveMigration);
  if (!m) return;
  section.hidden = false;
  document.getElementById('live-id').textContent = `${m.id} · ${shortDid(m.from)} → ${shortDid(m.to)}`;
  const p = m.phases || {};
  const t0 = p.requested;
  const bad = m.state === 'rolled-back' || m.state === 'failed';
  const names = bad ? [...PHASES.filter((n) => p[n]), m.state === 'failed' ? 'failed' : 'rolledBack'] : PHASES;
  document.getElementById('phases').replaceChildren(
    ...names.map((n) =>
      el('li', { class: `${p[n] ? 'reached' : ''} ${bad && !PHASES.includes(n) ? 'bad' : ''}`, 'data-phase': n }, n, el('span', { class: 't' }, p[n] && t0 ? `+${Math.round(p[n] - t0)} ms` : '')),
    ),
  );
  document.getElementById('live-summary').textContent = FINAL.has(m.state)
    ? `${m.state} in ${ms(t0, p.done ?? p.rolledBack ?? p.failed)}${m.bytesReplayed !== undefined ? ` · ${bytes(m.bytesReplayed)} replayed from the proxy's cache` : ''}${m.error ? ` · ${m.error}` : ''}`
    : `${m.state}…`;
  section.dataset.state = m.state;
}

function openMove(conn) {
  const dialog = document.getElementById('move-dialog');
  document.getElementById('move-conn').textContent = conn.id;
  document.getElementById('move-error').hidden = true;
  const targets = state.devices.filter((d) => d.did !== conn.device);
  document.getElementById('move-targets').replaceChildren(
    ...(targets.length
      ? targets.map((d) => el('button', { type: 'button', 'data-target': d.name, onclick: () => move(conn.id, d.name) }, `${d.name}${d.status === 'online' ? '' : ' (offline)'}`))
      : [el('p', { class: 'empty' }, 'No other device.')]),
  );
  dialog.showModal();
}

async function move(connection, to) {
  const handler = document.getElementById('move-handler').value.trim();
  const res = await fetch('/api/move', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ connection, to, ...(handler ? { handler } : {}) }) });
  const body = await res.json();
  if (!res.ok) {
    const e = document.getElementById('move-error');
    e.textContent = body.error?.message ?? `failed (${res.status})`;
    e.hidden = false;
    return;
  }
  liveMigration = body.migration;
  document.getElementById('move-dialog').close();
  renderLive();
}

function renderAll() {
  renderStatus();
  renderDevices();
  renderConnections();
  renderMigrations();
  renderLive();
}

const events = new EventSource('/api/events');
events.addEventListener('state', (e) => {
  Object.assign(state, JSON.parse(e.data));
  renderAll();
});
events.addEventListener('status', (e) => {
  state.status = JSON.parse(e.data).status;
  renderStatus();
});
events.addEventListener('devices', (e) => {
  state.devices = JSON.parse(e.data).devices;
  renderDevices();
});
events.addEventListener('lan', (e) => {
  state.lan = JSON.parse(e.data).lan;
  renderDevices();
});
events.addEventListener('connections', (e) => {
  state.connections = JSON.parse(e.data).connections;
  renderConnections();
});
events.addEventListener('migration', (e) => {
  const m = JSON.parse(e.data).migration;
  state.migrations = [m, ...state.migrations.filter((x) => x.id !== m.id)].slice(0, 50);
  renderMigrations();
  renderLive();
});
setInterval(renderDevices, 5000);
