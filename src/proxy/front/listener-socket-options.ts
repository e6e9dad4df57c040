import type { Server, Socket } from 'node:net';
import { IPPROTO_TCP, setIntOptionOfFd, setUserTimeout, TCP_USER_TIMEOUT } from '../kernel/tcp-info.js';

// <sys/socket.h>, <netinet/tcp.h> (Linux values)
const SOL_SOCKET = 1;
const SO_KEEPALIVE = 9;
const TCP_KEEPIDLE = 4;
const TCP_KEEPINTVL = 5;
const TCP_KEEPCNT = 6;
/** What libuv's `uv_tcp_keepalive` (under Node's `socket.setKeepAlive`) sets besides the idle time. */
const LIBUV_KEEPALIVE_INTERVAL_S = 1;
const LIBUV_KEEPALIVE_PROBES = 10;

/** The device sockets' kernel options: TCP keepalive and RFC 5482's user timeout. */
export interface DeviceSocketOptions {
  keepaliveMs: number;
  userTimeoutMs: number;
}

/**
 * Sets the device sockets' options once, on the listening socket, instead of on every accepted
 * one: Linux copies a listener's socket options into each connection it accepts (the child socket
 * starts as a copy of the listener, `sk_clone_lock`), keepalive with its timer and
 * `TCP_USER_TIMEOUT` included; nginx's `listen ... so_keepalive=` relies on the same. That saves
 * six `setsockopt` calls per connection (docs/bench.md, "Connection rate"). The values are those
 * `socket.setKeepAlive(true, keepaliveMs)` and `setUserTimeout` would set (libuv also sets a 1 s
 * probe interval and 10 probes; a test compares the two ways on real sockets).
 *
 * Returns false when the options could not be set (not Linux, no handle): then call
 * `applyDeviceSocketOptions` on each accepted socket instead.
 */
export function setOnListener(server: Server, options: DeviceSocketOptions): boolean {
  const fd = (server as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  if (process.platform !== 'linux' || typeof fd !== 'number' || fd < 0) return false;
  try {
    const set = (level: number, name: number, value: number): void => setIntOptionOfFd(fd, level, name, value);
    set(SOL_SOCKET, SO_KEEPALIVE, 1);
    // Node passes whole seconds; below one second libuv's TCP_KEEPIDLE call fails and leaves
    // the kernel's default idle time (and interval and count), so do the same.
    const idle = Math.floor(options.keepaliveMs / 1000);
    if (idle > 0) {
      set(IPPROTO_TCP, TCP_KEEPIDLE, idle);
      set(IPPROTO_TCP, TCP_KEEPINTVL, LIBUV_KEEPALIVE_INTERVAL_S);
      set(IPPROTO_TCP, TCP_KEEPCNT, LIBUV_KEEPALIVE_PROBES);
    }
    set(IPPROTO_TCP, TCP_USER_TIMEOUT, options.userTimeoutMs);
    return true;
  } catch {
    return false;
  }
}

/** The same options on one accepted socket (where the listener could not carry them). */
export function applyDeviceSocketOptions(socket: Socket, options: DeviceSocketOptions): void {
  socket.setKeepAlive(true, options.keepaliveMs);
  try {
    setUserTimeout(socket, options.userTimeoutMs);
  } catch {
    // not Linux: keepalive alone bounds silence
  }
}
