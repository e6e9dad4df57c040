import { describe, expect, it } from 'vitest';
import { decodeOffset, encodeFrame, encodeJsonFrame, encodeOffsetFrame, FrameDecoder } from '../../src/mtcp/wire/frame-codec.js';
import { FrameType, PREAMBLE, type Frame } from '../../src/mtcp/wire/frame-types.js';
import { DETECT_STATES, PreambleDetector } from '../../src/mtcp/wire/preamble-detector.js';
import { MtcpProtocolError } from '../../src/mtcp/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Feeds `bytes` split at `cut` (two pushes) and returns every frame. */
function decodeSplit(bytes: Buffer, cut: number, max?: number): Frame[] {
  const d = new FrameDecoder(max);
  return [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
}

describe('frame codec', () => {
  // DATA "hi" | ACK 258 | END | HEARTBEAT
  const stream = hex(`
    10 00000002 6869
    11 00000008 0000000000000102
    13 00000000
    14 00000000`);

  it('encodes to the documented bytes', () => {
    expect(encodeFrame(FrameType.DATA, Buffer.from('hi')).toString('hex')).toBe('10000000026869');
    expect(encodeOffsetFrame(FrameType.ACK, 258).toString('hex')).toBe('11000000080000000000000102');
    expect(encodeFrame(FrameType.END).toString('hex')).toBe('1300000000');
    expect(encodeJsonFrame(FrameType.HELLO, { mode: 'new' }).toString('hex')).toBe('010000000e' + Buffer.from('{"mode":"new"}').toString('hex'));
  });

  it('streamData: DATA comes in pieces that are views of the reads and add up to the payload; control frames whole', () => {
    const big = Buffer.alloc(300, 7);
    const bytes = Buffer.concat([stream, encodeFrame(FrameType.DATA, big), encodeOffsetFrame(FrameType.COMMIT, 9), encodeFrame(FrameType.DATA)]);
    for (let cut = 0; cut <= bytes.length; cut += 7) {
      for (const cut2 of [cut, Math.min(bytes.length, cut + 150)]) {
        const d = new FrameDecoder(undefined, { streamData: true });
        const frames = [bytes.subarray(0, cut), bytes.subarray(cut, cut2), bytes.subarray(cut2)].flatMap((b) => d.push(b));
        // Merge consecutive DATA pieces back into frames for comparison.
        const merged: Array<{ type: number; payload: Buffer }> = [];
        let dataRun: Buffer[] | undefined;
        for (const f of frames) {
          if (f.type === FrameType.DATA && f.payload.length > 0) {
            (dataRun ??= []).push(f.payload);
            continue;
          }
          if (dataRun) merged.push({ type: FrameType.DATA, payload: Buffer.concat(dataRun) });
          dataRun = undefined;
          merged.push(f);
        }
        if (dataRun) merged.push({ type: FrameType.DATA, payload: Buffer.concat(dataRun) });
        expect(merged.map((f) => f.type), `cuts ${cut}/${cut2}`).toEqual([FrameType.DATA, FrameType.ACK, FrameType.END, FrameType.HEARTBEAT, FrameType.DATA, FrameType.COMMIT, FrameType.DATA]);
        expect(merged[0]!.payload.toString()).toBe('hi');
        expect(merged[4]!.payload.equals(big), `cuts ${cut}/${cut2}`).toBe(true);
        expect(decodeOffset(merged[5]!.payload)).toBe(9);
        expect(d.pendingBytes).toBe(0);
      }
    }
    // Oversized and unknown frames are still refused from the header alone.
    expect(() => new FrameDecoder(100, { streamData: true }).push(hex('10 00000065'))).toThrow(MtcpProtocolError);
  });

  it('decodes whole and split at every offset, including one byte at a time', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const frames = decodeSplit(stream, cut);
      expect(frames.map((f) => f.type), `cut ${cut}`).toEqual([FrameType.DATA, FrameType.ACK, FrameType.END, FrameType.HEARTBEAT]);
      expect(frames[0]!.payload.toString()).toBe('hi');
      expect(decodeOffset(frames[1]!.payload)).toBe(258);
    }
    const d = new FrameDecoder();
    const frames: Frame[] = [];
    for (const b of stream) frames.push(...d.push(Buffer.from([b])));
    expect(frames).toHaveLength(4);
    expect(d.pendingBytes).toBe(0);
  });

  it('rejects unknown types and oversized frames before buffering them', () => {
    expect(() => new FrameDecoder().push(hex('7f 00000000'))).toThrow(MtcpProtocolError);
    const d = new FrameDecoder(16);
    expect(() => d.push(hex('10 00000011'))).toThrow(/exceeds the bound of 16/);
    expect(() => decodeSplit(hex('10 00000010') , 3, 15)).toThrow(MtcpProtocolError);
  });

  it('rejects malformed offsets', () => {
    expect(() => decodeOffset(hex('0001'))).toThrow(MtcpProtocolError);
    expect(() => decodeOffset(hex('ffffffffffffffff'))).toThrow(/out of range/);
  });
});

describe('preamble detector', () => {
  const preambleAndFrame = Buffer.concat([PREAMBLE, hex('13 00000000')]);

  it('has the documented preamble bytes', () => {
    expect(PREAMBLE.toString('hex')).toBe('894d5443500d0a01');
  });

  it('recognises an M-TCP client split at every offset and returns the bytes after it', () => {
    for (let cut = 0; cut <= preambleAndFrame.length; cut++) {
      const d = new PreambleDetector();
      const a = d.push(preambleAndFrame.subarray(0, cut));
      const b = d.push(preambleAndFrame.subarray(cut));
      const rest: Buffer[] = [];
      for (const r of [a, b]) if (r.state === DETECT_STATES.MIGRATORY) rest.push(r.rest);
      expect(b.state, `cut ${cut}`).toBe(DETECT_STATES.MIGRATORY);
      expect(Buffer.concat(rest).toString('hex')).toBe('1300000000');
    }
  });

  it('hands a plain client every byte it sent, split at every offset', () => {
    const plain = Buffer.from('STREAM a 10\n');
    for (let cut = 1; cut <= plain.length; cut++) {
      const d = new PreambleDetector();
      const heads: Buffer[] = [];
      for (const part of [plain.subarray(0, cut), plain.subarray(cut)]) {
        const r = d.push(part);
        if (r.state === DETECT_STATES.PLAIN) heads.push(r.head);
      }
      expect(Buffer.concat(heads).toString()).toBe('STREAM a 10\n');
    }
    // A binary client whose first bytes happen to start like the preamble still gets them all.
    const d = new PreambleDetector();
    expect(d.push(hex('894d54')).state).toBe(DETECT_STATES.DETECTING);
    const r = d.push(hex('00ff'));
    expect(r.state === DETECT_STATES.PLAIN && r.head.toString('hex')).toBe('894d5400ff');
  });
});
