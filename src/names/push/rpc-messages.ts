/**
 * Request/response over the push channel (docs/names.md, "RPC over the push channel"): the two
 * hot, small operations, `resolve` and `heartbeat`, on the WebSocket an agent or a proxy already
 * keeps open, so they cost one WebSocket frame each way instead of an HTTP request. The HTTP
 * endpoints stay the reference API; these give the same answers under the same rules.
 *
 * Client → server: `{type: "rpc", id, method, params}`; server → client: `{type: "rpc-result",
 * id, result}` or `{type: "rpc-error", id, error: {code, message, status}}`, in any order. A
 * typed envelope rather than JSON-RPC 2.0 because the channel already multiplexes `{type}`
 * messages and the errors are the HTTP API's string codes and statuses.
 */
import { z } from 'zod';
import { didSchema } from '../model.js';
import { heartbeatBody } from '../api/schemas.js';

/** A request id: chosen by the client, echoed in the answer; unique among its requests in flight. */
export const rpcIdSchema = z.union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().min(1).max(64)]);
export type RpcId = z.infer<typeof rpcIdSchema>;

export const RPC_METHODS = ['resolve', 'heartbeat'] as const;
export type RpcMethod = (typeof RPC_METHODS)[number];

/**
 * The envelope of a request. A frame that does not fit it (or any other frame type) closes the
 * session; a request whose `method` or `params` are wrong is answered with a 400 `rpc-error`,
 * as HTTP answers a bad body with 400 and keeps the connection.
 */
const rpcEnvelope = z.object({ type: z.literal('rpc'), id: rpcIdSchema, method: z.string().max(64), params: z.unknown() });
const subscribeFrame = z.object({ type: z.enum(['subscribe', 'unsubscribe']), dids: z.array(didSchema).max(10_000) });

/** Every frame a client may send; anything else closes the session (1008). */
export const clientFrameSchema = z.discriminatedUnion('type', [rpcEnvelope, subscribeFrame]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type RpcEnvelope = z.infer<typeof rpcEnvelope>;

/** The parameters of each method: those of `GET /v1/devices/{did}` and `POST /v1/heartbeat`. */
export const rpcParams = {
  resolve: z.object({ did: didSchema }),
  heartbeat: heartbeatBody,
} satisfies Record<RpcMethod, z.ZodType>;

export interface RpcResult {
  type: 'rpc-result';
  id: RpcId;
  result: unknown;
}

export interface RpcErrorReply {
  type: 'rpc-error';
  id: RpcId;
  error: { code: string; message: string; status: number };
}

export type RpcReply = RpcResult | RpcErrorReply;

/**
 * What the server's `hello` says about RPC, so a client never sends more than the server
 * accepts, and an old server (no `rpc` field) is simply reached over HTTP.
 */
export interface RpcHello {
  methods: RpcMethod[];
  maxInFlight: number;
  maxMessageBytes: number;
}

/** WebSocket close codes (RFC 6455 section 7.4.1) the channel uses for bad input. */
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
