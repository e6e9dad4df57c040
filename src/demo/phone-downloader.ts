import { createWriteStream } from 'node:fs';
import type { Socket } from 'node:net';
import { Transform, type Duplex } from 'node:stream';

/** Longest HTTP response head the phone's downloader accepts. */
const MAX_HEAD_BYTES = 16 * 1024;

export interface PhoneDownload {
  /** Body bytes written to the file so far. */
  readonly body: number;
  /** Length of the HTTP response head, once read: the stream offset where the body starts. */
  readonly headBytes: number;
  /** Settles once the proxy let go of the phone (after the move) and the file is closed. */
  readonly done: Promise<void>;
}

/**
 * The phone's downloader, a plain HTTP/1.1 client on a tunnel: it sends the request, strips the
 * response head and appends the body to `path`. When Bob moves the download away, the proxy ends
 * the phone's side, and the downloader closes too.
 */
export function startPhoneDownload(socket: Socket, request: string, path: string, onBody: (bytes: number) => void): PhoneDownload {
  const file = createWriteStream(path);
  let head: Buffer | null = Buffer.alloc(0);
  let body = 0;
  let headBytes = 0;
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      if (head) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > MAX_HEAD_BYTES) socket.destroy(new Error(`HTTP response head over ${MAX_HEAD_BYTES} bytes`));
          return;
        }
        headBytes = end + 4;
        chunk = head.subarray(headBytes);
        head = null;
      }
      body += chunk.length;
      file.write(chunk);
      onBody(body);
    });
    socket.on('end', () => socket.end());
    socket.on('error', reject);
    socket.on('close', () => file.end(() => resolve()));
  });
  done.catch(() => undefined);
  socket.write(request);
  socket.resume();
  return {
    get body() {
      return body;
    },
    get headBytes() {
      return headBytes;
    },
    done,
  };
}

/** A pass-through that reports the bytes going by, for the PC's progress bar. */
export function countingStream(source: Duplex, onBytes: (total: number) => void): Duplex {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(total);
      callback(null, chunk);
    },
  });
  source.on('error', (err) => counter.destroy(err));
  source.pipe(counter);
  return counter;
}
