/**
 * Messages to an agent through the name server (issue 3, "Push"): the proxy's
 * Migration-To-Request reaches an agent behind NAT this way (CONTRACTS.md "Proxy ↔ name server").
 * Who may push: a proxy holding the service key, or a device of the same user.
 */
import { AgentNotConnectedError, BadRequestError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import type { DeliveryResult, Principal, PushMessage, ServiceContext } from './context.js';

/** Types only the name server sends; a pushed message cannot pose as one of them. */
export const RESERVED_PUSH_TYPES: ReadonlySet<string> = new Set(['hello', 'coa', 'error', 'revoked', 'introduction', 'group-changed', 'paired']);

export class PushService {
  constructor(private readonly ctx: ServiceContext) {}

  async push(p: Principal, did: string, message: PushMessage): Promise<{ id: string; delivered: DeliveryResult }> {
    if (RESERVED_PUSH_TYPES.has(message.type)) throw new BadRequestError(`"${message.type}" is a message type only the name server sends`);
    const d = await this.ctx.store.getDevice(did);
    if (!d || d.revokedAt !== null || (p.kind !== 'service' && p.uid !== d.uid)) throw new NotFoundError(`no device ${did}`);
    const id = typeof message.id === 'string' ? message.id : crypto.randomUUID();
    const framed: PushMessage = { ...message, id, from: p.kind === 'service' ? 'service' : p.kind === 'device' ? p.did : p.uid };
    if (Buffer.byteLength(JSON.stringify(framed)) > this.ctx.settings.maxPushBytes) {
      throw new PayloadTooLargeError(`a push message is at most ${this.ctx.settings.maxPushBytes} bytes`);
    }
    const delivered = await this.ctx.events.deliver(did, framed);
    if (delivered === 'none') throw new AgentNotConnectedError(did);
    return { id, delivered };
  }
}
