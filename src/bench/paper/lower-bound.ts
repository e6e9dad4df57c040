/**
 * The least a migration can take on given links (issue 6, "What to measure"): the Migration-From
 * request's one-way trip old device → proxy, the Migration-To request's one-way trip proxy →
 * new device, the new sub-connection's TCP handshake (one RTT of the new link), the proxy
 * negotiation (the CONNECT request's one-way trip new device → proxy; its reply overlaps the
 * flush), and the cached bytes sent at the bottleneck rate. Nothing of the implementation is in
 * it, only propagation and serialisation.
 */
export interface LinkTimes {
  /** One-way delay device → proxy, ms. */
  upMs: number;
  /** One-way delay proxy → device, ms. */
  downMs: number;
  /** Bottleneck rate towards the device, kbit/s. */
  rateKbit: number;
}

export interface LowerBound {
  requestMs: number;
  notifyMs: number;
  handshakeMs: number;
  negotiationMs: number;
  flushMs: number;
  /** Everything but the flush: what remains when the window reopens before the cache is sent. */
  signallingMs: number;
  totalMs: number;
}

export function migrationLowerBound(oldLink: LinkTimes, newLink: LinkTimes, cachedBytes: number): LowerBound {
  const requestMs = oldLink.upMs;
  const notifyMs = newLink.downMs;
  const handshakeMs = newLink.upMs + newLink.downMs;
  const negotiationMs = newLink.upMs;
  const flushMs = (cachedBytes * 8) / newLink.rateKbit;
  const signallingMs = requestMs + notifyMs + handshakeMs + negotiationMs;
  return { requestMs, notifyMs, handshakeMs, negotiationMs, flushMs, signallingMs, totalMs: signallingMs + flushMs };
}
