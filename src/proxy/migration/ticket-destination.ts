/**
 * An explicit attach names the destination `<ticket>.ticket.tsmp.invalid`. `.invalid` is
 * reserved by RFC 2606 section 2, so such a name can never be a real host.
 */
const SUFFIX = '.ticket.tsmp.invalid';

export function ticketOf(host: string): string | undefined {
  // Tickets are hex, and DNS names are case-insensitive (RFC 4343).
  const lower = host.toLowerCase();
  if (!lower.endsWith(SUFFIX)) return undefined;
  return lower.slice(0, lower.length - SUFFIX.length);
}

export function ticketDestination(ticket: string): string {
  return `${ticket}${SUFFIX}`;
}
