import type { Logger } from '../../common/logger.js';
import { formatHostPort, type HostPort } from '../../common/host-port.js';
import type { MigrationListener } from './migration-manager.js';

/** Anything that can deliver a message to a device's agent (the name server's push channel). */
export interface PushSender {
  push(did: string, message: { type: string; [key: string]: unknown }): Promise<unknown>;
}

/**
 * The Migration-To-Request (paper section IV.B): tells the target device's agent that a stream
 * waits for it, with the ticket it attaches with. The message format is in docs/CONTRACTS.md.
 * A push that fails is logged; the migration then times out and rolls back as usual.
 */
export function migrationPushListener(sender: PushSender, proxyAddress: () => HostPort, log: Logger): MigrationListener {
  return (m) => {
    const message = {
      type: 'migration',
      migration: m.id,
      connection: m.connection,
      ticket: m.ticket,
      proxy: formatHostPort(proxyAddress()),
      destination: m.destination,
      // `from` is set by the name server to whoever pushed; the old device travels as fromDevice.
      fromDevice: m.from,
      expiresAt: new Date(m.expiresAt).toISOString(),
      ...(m.snapshot !== undefined ? { snapshot: m.snapshot } : {}),
    };
    sender.push(m.to, message).catch((err: Error) => {
      log.warn({ migration: m.id, to: m.to, err: err.message }, 'could not push the Migration-To-Request');
    });
  };
}
