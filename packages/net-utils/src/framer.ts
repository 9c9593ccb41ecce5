import { copyBytes } from './bytes.js';
import { FrameTooLargeError, MalformedError, TruncatedError } from './errors.js';

/** How a TCP protocol announces the length of each frame. */
export interface LengthFramingOptions {
  /** Bytes of the fixed header that holds the length field (the framer needs all of them before deciding). */
  headerSize: number;
  /** Offset of the length field inside the header. */
  lengthFieldOffset: number;
  /** Size of the length field in bytes. */
  lengthFieldSize: 1 | 2 | 4;
  /** Byte order of the length field (network order when false or absent). */
  littleEndian?: boolean;
  /** Whether the length field counts the header too (else it counts only what follows the header). */
  lengthIncludesHeader: boolean;
  /** Added to the announced length (for protocols whose length field is off by a constant). Default 0. */
  lengthAdjustment?: number;
  /** Largest whole frame (header included) accepted; a larger announcement throws before anything is allocated. */
  maxFrameSize: number;
  /**
   * Called with the complete header before the body is buffered: throw a typed error here to reject a bad magic,
   * version or type early (the connection should then be closed). `header` is only valid during the call (it may
   * be the framer's reused header buffer); `streamOffset` is the frame's offset in the stream.
   */
  validateHeader?: (header: Uint8Array, streamOffset: number) => void;
  /**
   * Allocates the buffer of a frame split across chunks. Default: uninitialised memory (`Buffer.allocUnsafeSlow`
   * where available), which is safe here because a frame is handed out only after every one of its bytes was
   * written, and a partial frame is never exposed (dropped on error, reset or a truncated end). Zero-filling
   * an 8 MB frame before overwriting it halves the throughput of large frames.
   */
  allocate?: (size: number) => Uint8Array;
  /**
   * Copy a frame that lies whole inside one chunk into its own buffer (from `allocate`) instead of returning a view
   * of the chunk: for callers that reuse their chunk buffer (Node's `onread`). Default false.
   */
  copyWholeFrames?: boolean;
}

/**
 * Splits a byte stream into length-prefixed frames. Feed it chunks of any size with {@link LengthFramer.push};
 * it returns the frames completed by that chunk.
 *
 * Memory: a frame that lies whole inside one chunk is returned as a view of that chunk (no copy); a frame split
 * across chunks is assembled into one buffer of exactly its size, allocated once its length is known and checked
 * against `maxFrameSize`. Nothing is concatenated per chunk, and at most one partial frame is buffered.
 *
 * Frames returned as views alias the chunk they came from: if the caller reuses chunk buffers, it must copy
 * frames it keeps. Memory held between chunks is at most one frame (`<= maxFrameSize`) plus the header buffer;
 * an announcement above `maxFrameSize` throws before the body is read or anything is allocated for it.
 *
 * After it throws, the framer is poisoned (the stream is out of sync): every later push throws the same error.
 * With {@link LengthFramer.push} the frames completed earlier in the failing chunk are lost with the return
 * value; {@link LengthFramer.pushTo} leaves them in `out`, so a reader can deliver them before the error.
 */
export class LengthFramer {
  readonly options: Readonly<LengthFramingOptions>;
  private readonly header: Uint8Array;
  private readonly allocate: (size: number) => Uint8Array;
  private readonly copyWhole: boolean;
  private headerFill = 0;
  private frame: Uint8Array | null = null;
  private frameFill = 0;
  private streamOffset = 0;
  private failure: Error | null = null;

  constructor(options: LengthFramingOptions) {
    const { headerSize, lengthFieldOffset, lengthFieldSize, maxFrameSize } = options;
    const adjustment = options.lengthAdjustment ?? 0;
    if (!Number.isSafeInteger(headerSize) || headerSize < 1)
      throw new RangeError('headerSize must be a positive integer');
    if (lengthFieldSize !== 1 && lengthFieldSize !== 2 && lengthFieldSize !== 4) {
      throw new RangeError('lengthFieldSize must be 1, 2 or 4');
    }
    if (
      !Number.isSafeInteger(lengthFieldOffset) ||
      lengthFieldOffset < 0 ||
      lengthFieldOffset + lengthFieldSize > headerSize
    ) {
      throw new RangeError('the length field must lie inside the header');
    }
    if (!Number.isSafeInteger(maxFrameSize) || maxFrameSize < headerSize) {
      throw new RangeError('maxFrameSize must be an integer of at least headerSize');
    }
    if (!Number.isSafeInteger(adjustment)) throw new RangeError('lengthAdjustment must be an integer');
    this.options = { ...options };
    this.header = new Uint8Array(headerSize);
    this.allocate = options.allocate ?? defaultAllocate;
    this.copyWhole = options.copyWholeFrames === true;
  }

  /** Bytes held for the frame in progress. */
  get bufferedBytes(): number {
    return this.frame ? this.frameFill : this.headerFill;
  }

  /** True when no partial frame is held (a clean point to end the stream). */
  get idle(): boolean {
    return this.frame === null && this.headerFill === 0;
  }

  /** Total bytes consumed so far (for error offsets). */
  get position(): number {
    return this.streamOffset;
  }

  /** Feeds a chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.pushTo(chunk, out);
    return out;
  }

  /** Like {@link push}, appending completed frames to `out` (no array allocated per chunk). */
  pushTo(chunk: Uint8Array, out: Uint8Array[]): void {
    if (this.failure) throw this.failure;
    try {
      this.consume(chunk, out);
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
  }

  /**
   * Declares the end of the stream: throws {@link TruncatedError} when it ends inside a frame (its offset is
   * where that frame started, `needed` the bytes the frame or its header needed, `available` those received).
   */
  end(): void {
    if (this.failure) throw this.failure;
    if (!this.idle) {
      const needed = this.frame ? this.frame.byteLength : this.options.headerSize;
      this.failure = new TruncatedError(
        this.streamOffset - this.bufferedBytes,
        needed,
        this.bufferedBytes,
        'frame at end of stream',
      );
      throw this.failure;
    }
  }

  /**
   * The rest of the frame in progress: a view of its buffer from the first byte still missing to its end, or null
   * when no frame body is in progress (between frames, or inside a header). A reader that can read straight into
   * memory (Node's `onread` with a buffer per read) reads into this view, which cannot run past the frame, then
   * calls {@link commitBody}: the body of a large frame is then never copied in user space.
   */
  pendingBody(): Uint8Array | null {
    const frame = this.frame;
    return frame === null || this.failure !== null ? null : frame.subarray(this.frameFill);
  }

  /** Declares that `n` bytes were written at the start of {@link pendingBody}'s view; a completed frame goes to `out`. */
  commitBody(n: number, out: Uint8Array[]): void {
    if (this.failure) throw this.failure;
    const frame = this.frame;
    if (frame === null) throw new RangeError('commitBody: no frame body in progress');
    if (!Number.isSafeInteger(n) || n < 0 || n > frame.byteLength - this.frameFill) {
      throw new RangeError(`commitBody: ${n} bytes do not fit the ${frame.byteLength - this.frameFill} still missing`);
    }
    this.frameFill += n;
    this.streamOffset += n;
    if (this.frameFill === frame.byteLength) {
      out.push(frame);
      this.frame = null;
      this.frameFill = 0;
    }
  }

  /** Drops any partial frame and clears a failure (for a new connection). */
  reset(): void {
    this.headerFill = 0;
    this.frame = null;
    this.frameFill = 0;
    this.streamOffset = 0;
    this.failure = null;
  }

  /** Reads and checks the announced length of the frame whose header is `header`, starting at `frameStart`. */
  private frameLength(header: Uint8Array, frameStart: number): number {
    const o = this.options;
    o.validateHeader?.(header, frameStart);
    const p = o.lengthFieldOffset;
    let raw: number;
    if (o.lengthFieldSize === 1) raw = header[p]!;
    else if (o.lengthFieldSize === 2)
      raw = o.littleEndian ? header[p]! | (header[p + 1]! << 8) : (header[p]! << 8) | header[p + 1]!;
    else if (o.littleEndian)
      raw = (header[p]! | (header[p + 1]! << 8) | (header[p + 2]! << 16) | (header[p + 3]! << 24)) >>> 0;
    else raw = ((header[p]! << 24) | (header[p + 1]! << 16) | (header[p + 2]! << 8) | header[p + 3]!) >>> 0;
    const total = raw + (o.lengthIncludesHeader ? 0 : o.headerSize) + (o.lengthAdjustment ?? 0);
    if (total < o.headerSize) {
      throw new MalformedError(
        frameStart + p,
        `announced frame length ${raw} is shorter than the ${o.headerSize}-byte header`,
      );
    }
    if (total > o.maxFrameSize) throw new FrameTooLargeError(total, o.maxFrameSize);
    return total;
  }

  private consume(chunk: Uint8Array, out: Uint8Array[]): void {
    const { headerSize } = this.options;
    const n = chunk.byteLength;
    let pos = 0;
    while (pos < n) {
      if (this.frame === null) {
        if (this.headerFill === 0 && n - pos >= headerSize) {
          // Fast path: the whole header is in this chunk; read the length in place.
          const total = this.frameLength(chunk.subarray(pos, pos + headerSize), this.streamOffset);
          if (n - pos >= total) {
            if (this.copyWhole) {
              const whole = this.allocate(total);
              whole.set(chunk.subarray(pos, pos + total));
              out.push(whole);
            } else out.push(chunk.subarray(pos, pos + total));
            pos += total;
            this.streamOffset += total;
            continue;
          }
          this.frame = this.allocate(total);
          this.frame.set(chunk.subarray(pos, n));
          this.frameFill = n - pos;
          this.streamOffset += n - pos;
          return;
        }
        const take = Math.min(headerSize - this.headerFill, n - pos);
        this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < headerSize) {
          this.streamOffset += take;
          return;
        }
        const total = this.frameLength(this.header, this.streamOffset - (headerSize - take));
        this.streamOffset += take;
        this.headerFill = 0;
        if (total === headerSize) {
          out.push(copyBytes(this.header));
          continue;
        }
        this.frame = this.allocate(total);
        this.frame.set(this.header);
        this.frameFill = headerSize;
        continue;
      }
      const frame = this.frame;
      const take = Math.min(frame.byteLength - this.frameFill, n - pos);
      frame.set(chunk.subarray(pos, pos + take), this.frameFill);
      this.frameFill += take;
      pos += take;
      this.streamOffset += take;
      if (this.frameFill === frame.byteLength) {
        out.push(frame);
        this.frame = null;
        this.frameFill = 0;
      }
    }
  }
}

type BufferLike = { allocUnsafeSlow(size: number): Uint8Array };
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

/** Uninitialised memory where Node's Buffer exists (see {@link LengthFramingOptions.allocate}). */
function defaultAllocate(size: number): Uint8Array {
  if (!NodeBuffer) return new Uint8Array(size);
  // A plain Uint8Array over the (unpooled) memory, so frames have one type whichever path built them.
  const b = NodeBuffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}
