import type { Socket } from 'node:net';
import { loadLibc } from '../../src/proxy/kernel/libc.js';
import { fdOf } from '../../src/proxy/kernel/tcp-info.js';

const IPPROTO_TCP = 6;
const TCP_CONGESTION = 13;

/**
 * Sets a socket's congestion control. The pause test uses cubic: the paper's claim is about the
 * Reno-family slow-start threshold, which BBR (this machine's default) does not keep the same way.
 */
export function setCongestionControl(socket: Socket, name: string): void {
  const value = Buffer.from(name);
  if (loadLibc().setsockopt(fdOf(socket), IPPROTO_TCP, TCP_CONGESTION, value, value.length) !== 0) {
    throw new Error(`cannot set congestion control ${name}`);
  }
}
