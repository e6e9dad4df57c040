/** The exact response head Alice's server sends, so the bench can rebuild the expected stream. */
export function responseHead(size: number, from: number): string {
  return from > 0
    ? `HTTP/1.1 206 Partial Content\r\nContent-Length: ${size - from}\r\nContent-Range: bytes ${from}-${size - 1}/${size}\r\nConnection: close\r\n\r\n`
    : `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n`;
}

/** Splits a received HTTP response into head length and body bytes; null head when incomplete. */
export function splitResponse(bytes: Buffer): { headLength: number; body: Buffer } | null {
  const end = bytes.indexOf('\r\n\r\n');
  return end < 0 ? null : { headLength: end + 4, body: bytes.subarray(end + 4) };
}
