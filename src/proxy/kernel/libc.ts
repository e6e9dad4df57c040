import koffi from 'koffi';

/**
 * The few libc calls Node does not expose, reached through koffi (no compiler needed).
 * Loaded lazily so that importing the proxy on a platform without glibc only fails when a
 * kernel query is actually made.
 */
interface Libc {
  getsockopt: (fd: number, level: number, name: number, buf: Buffer, len: number[]) => number;
  /** The same call with both arguments as raw memory: koffi passes the Buffers' pointers as is. */
  getsockoptRaw: (fd: number, level: number, name: number, buf: Buffer, len: Buffer) => number;
  setsockopt: (fd: number, level: number, name: number, buf: Buffer, len: number) => number;
  ioctlInt: (fd: number, request: number, out: number[]) => number;
}

let libc: Libc | undefined;

export function loadLibc(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    getsockopt: lib.func('int getsockopt(int, int, int, _Out_ uint8_t *buf, _Inout_ uint32_t *len)'),
    getsockoptRaw: lib.func('int getsockopt(int, int, int, void *buf, void *len)'),
    setsockopt: lib.func('int setsockopt(int, int, int, const uint8_t *buf, uint32_t len)'),
    // ioctl is variadic; the third argument is an `int *` for SIOCOUTQ/SIOCINQ.
    ioctlInt: lib.func('int ioctl(int, unsigned long, ...)') as unknown as Libc['ioctlInt'],
  };
  const variadicIoctl = lib.func('int ioctl(int, unsigned long, ...)');
  libc.ioctlInt = (fd, request, out) => variadicIoctl(fd, request, '_Out_ int *', out) as number;
  return libc;
}

export function lastErrno(): number {
  return koffi.errno();
}
