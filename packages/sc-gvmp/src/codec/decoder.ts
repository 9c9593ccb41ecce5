import { FrameTooLargeError, LengthFramer } from '@cam/net-utils/wire';
import { HeaderOffset, SC_GVMP_HEADER_SIZE } from './constants.js';
import {
  checkMaxPayloadLength,
  type FrameDecodeOptions,
  frameFromParts,
  type ScGvmpFrame,
  validateFrameHeader,
} from './frame.js';

/** Options of {@link createFrameFramer}. */
export interface FrameFramerOptions extends FrameDecodeOptions {
  /**
   * Allocates the buffer of a frame that spans TCP chunks (header + payload, `size` bytes, already checked against
   * the maximum); it must return exactly `size` bytes. Default: the framer's own (uninitialised memory). A pool's
   * `allocate` here lets the receive path reuse frame buffers.
   */
  allocate?: (size: number) => Uint8Array;
  /** Copy frames that lie whole in one chunk instead of returning views of it (for a reader that reuses its chunk buffer). */
  copyWholeFrames?: boolean;
}

/**
 * A {@link LengthFramer} for SC_GVMP: 12-byte header, PayloadLen (u32, big-endian) at offset 8 counting only the
 * payload. Its `validateHeader` refuses a bad magic, an unsupported version, an unknown kind and a PayloadLen above
 * `maxPayloadLength` before a byte of the body is buffered or allocated.
 */
export function createFrameFramer(options: FrameFramerOptions = {}): LengthFramer {
  const max = checkMaxPayloadLength(options.maxPayloadLength);
  return new LengthFramer({
    ...(options.allocate ? { allocate: options.allocate } : {}),
    ...(options.copyWholeFrames ? { copyWholeFrames: true } : {}),
    headerSize: SC_GVMP_HEADER_SIZE,
    lengthFieldOffset: HeaderOffset.payloadLength,
    lengthFieldSize: 4,
    lengthIncludesHeader: false,
    maxFrameSize: max + SC_GVMP_HEADER_SIZE,
    validateHeader(header, streamOffset) {
      validateFrameHeader(header, streamOffset);
      const p = HeaderOffset.payloadLength;
      const len = ((header[p]! << 24) | (header[p + 1]! << 16) | (header[p + 2]! << 8) | header[p + 3]!) >>> 0;
      if (len > max) throw new FrameTooLargeError(len, max, 'SC_GVMP payload');
    },
  });
}

/**
 * Turns one complete frame as returned by {@link createFrameFramer} (already validated) into an
 * {@link ScGvmpFrame}; the payload is a view of `frame`.
 */
export function frameFromFramed(frame: Uint8Array): ScGvmpFrame {
  const v = new DataView(frame.buffer, frame.byteOffset, SC_GVMP_HEADER_SIZE);
  const header = {
    flags: v.getUint8(HeaderOffset.flags),
    seq: v.getUint32(HeaderOffset.seq, false),
    payloadLength: v.getUint32(HeaderOffset.payloadLength, false),
  };
  return frameFromParts(header, frame.subarray(SC_GVMP_HEADER_SIZE, SC_GVMP_HEADER_SIZE + header.payloadLength));
}

/**
 * Streaming SC_GVMP decoder: push TCP chunks of any size, get whole frames. Holds at most one partial frame
 * (<= maxPayloadLength + 12 bytes). After a typed error it is poisoned (the stream is out of sync): every later
 * push throws the same error; the connection should be closed.
 */
export class ScGvmpFrameDecoder {
  readonly framer: LengthFramer;
  private readonly raw: Uint8Array[] = [];

  constructor(options: FrameDecodeOptions = {}) {
    this.framer = createFrameFramer(options);
  }

  /** Bytes held for the frame in progress. */
  get bufferedBytes(): number {
    return this.framer.bufferedBytes;
  }

  /** True between frames. */
  get idle(): boolean {
    return this.framer.idle;
  }

  /** Feeds a chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): ScGvmpFrame[] {
    const out: ScGvmpFrame[] = [];
    this.pushTo(chunk, out);
    return out;
  }

  /**
   * Like {@link push}, appending to `out`. When the chunk holds whole frames followed by bad bytes, the whole
   * frames are appended before the error is thrown.
   */
  pushTo(chunk: Uint8Array, out: ScGvmpFrame[]): void {
    const raw = this.raw;
    raw.length = 0;
    try {
      this.framer.pushTo(chunk, raw);
    } finally {
      for (const f of raw) out.push(frameFromFramed(f));
      raw.length = 0;
    }
  }

  /** End of stream: throws a TruncatedError when it ends inside a frame. */
  end(): void {
    this.framer.end();
  }

  /** Forgets any partial frame and a previous error (for a new connection). */
  reset(): void {
    this.framer.reset();
  }
}
