import { ConfigError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `HOST:PORT`, `[v6]:PORT` or `:PORT` (loopback). Port 0 asks the kernel for a free one.
 */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) throw new ConfigError(`expected HOST:PORT, got "${text}"`);
  const host = m[1] ?? (m[2] === '' || m[2] === undefined ? defaultHost : m[2]);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`port out of range in "${text}"`);
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
