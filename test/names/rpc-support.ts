/** A raw WebSocket client of the push channel for the RPC tests: frames in, frames out, no helpers in between. */
import WebSocket from 'ws';
import { basicHeader } from '../../src/names/api/credentials.js';

export interface RawSession {
  ws: WebSocket;
  hello: Record<string, unknown>;
  /** Every frame received after the hello, in order. */
  frames: Record<string, unknown>[];
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the frame answering request `id`. */
  answer(id: number | string, ms?: number): Promise<Record<string, unknown>>;
  request(id: number | string, method: string, params: unknown): Promise<Record<string, unknown>>;
}

export function deviceAuth(did: string, token: string): string {
  return basicHeader(did, token);
}

export async function openRaw(serverUrl: string, authorization: string): Promise<RawSession> {
  const ws = new WebSocket(serverUrl.replace(/^http/, 'ws') + '/v1/push', { headers: { authorization } });
  const frames: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {});
  const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(d.toString()) as Record<string, unknown>));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  ws.on('message', (d) => {
    frames.push(JSON.parse(d.toString()) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  const answer = (id: number | string, ms = 5000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${id} within ${ms} ms`)), ms);
      const look = () => {
        const f = frames.find((x) => x.id === id && (x.type === 'rpc-result' || x.type === 'rpc-error'));
        if (f) {
          clearTimeout(t);
          resolve(f);
        } else waiters.push(look);
      };
      look();
    });
  return {
    ws,
    hello,
    frames,
    closed,
    answer,
    request: (id, method, params) => {
      ws.send(JSON.stringify({ type: 'rpc', id, method, params }));
      return answer(id);
    },
  };
}
