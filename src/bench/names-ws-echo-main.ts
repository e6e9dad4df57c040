/**
 * The baseline of the WebSocket RPC figures (`node dist/bench/names-ws-echo-main.js`): a
 * do-nothing push channel on `ws`, the library the name server uses, that parses each request
 * and answers it at once with a constant resolution-sized result. Under the same load generator
 * it gives the machine's ceiling for this transport at that moment; the name server's figures
 * are reported as a ratio to it. It batches its writes as the name server does
 * (names/push/send-batcher.ts), so the ratio compares the work, not the write strategy. Prints
 * `listening on URL`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { SendBatcher } from '../names/push/send-batcher.js';

const RESULT = { did: 'd0.u0@bench.example', status: 'offline', coa: null, lastSeen: null, agent: { push: '/v1/push/d0.u0%40bench.example', control: null } };
const http = createServer((_q, s) => s.writeHead(404).end());
const wss = new WebSocketServer({ server: http, path: '/v1/push', maxPayload: 65_536 });
const out = new SendBatcher();
wss.on('connection', (ws) => {
  ws.send(JSON.stringify({ type: 'hello', role: 'proxy', rpc: { methods: ['resolve', 'heartbeat'], maxInFlight: 256, maxMessageBytes: 65_536 } }));
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { id: number };
    out.send(ws, JSON.stringify({ type: 'rpc-result', id: m.id, result: RESULT }));
  });
});
http.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${(http.address() as AddressInfo).port}`));
