import { closeSync, constants, openSync } from 'node:fs';
import koffi from 'koffi';
import { NetemNotPermittedError } from './errors.js';

/** linux/if_tun.h */
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
/** No 4-byte packet-information header: each read(2) is exactly one IP packet. */
const IFF_NO_PI = 0x1000;
/** struct ifreq is 40 bytes on 64-bit Linux: 16 bytes of name, then a union (flags first). */
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

type Ioctl = (fd: number, request: number, ...rest: unknown[]) => number;
let ioctl: Ioctl | undefined;

function loadIoctl(): Ioctl {
  if (!ioctl) {
    const lib = koffi.load('libc.so.6');
    // ioctl(2) is variadic in libc; koffi takes each extra argument as (type, value).
    ioctl = lib.func('int ioctl(int, unsigned long, ...)') as unknown as Ioctl;
  }
  return ioctl;
}

/**
 * Creates a TUN interface in the calling process's network namespace and returns its file
 * descriptor. The interface lives as long as the descriptor is open (it is not persistent), so a
 * crashed run cannot leave it behind. Reading the descriptor yields one IPv4/IPv6 packet per
 * read(2); writing one packet injects it as if received on the interface.
 */
export function openTun(name: string): number {
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw new NetemNotPermittedError(`TUN name "${name}" longer than 15 bytes`);
  let fd: number;
  try {
    // Non-blocking: the forwarder polls it (ppoll) so that it can also wake for due packets.
    fd = openSync('/dev/net/tun', constants.O_RDWR | constants.O_NONBLOCK);
  } catch (err) {
    throw new NetemNotPermittedError('cannot open /dev/net/tun', { cause: err });
  }
  const ifr = Buffer.alloc(IFREQ_SIZE);
  ifr.write(name, 0, 'latin1');
  ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI, IFNAMSIZ);
  const rc = loadIoctl()(fd, TUNSETIFF, 'void *', ifr);
  if (rc !== 0) {
    const errno = koffi.errno();
    closeSync(fd);
    throw new NetemNotPermittedError(`ioctl(TUNSETIFF, ${name}) failed with errno ${errno}`);
  }
  return fd;
}
