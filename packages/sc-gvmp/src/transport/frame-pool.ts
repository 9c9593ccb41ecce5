import { ValueOutOfRangeError } from '@cam/net-utils';

/** Settings of a {@link FramePool}. */
export interface FramePoolOptions {
  /** Most bytes of free (released, not lent) buffers kept for reuse; beyond it released buffers are left to the GC. */
  maxPooledBytes: number;
}

/** Counters of a {@link FramePool}. */
export interface FramePoolStats {
  /** Buffers allocated because no free one of the size class was pooled. */
  allocated: number;
  /** Buffers handed out again after a release. */
  reused: number;
  /** Buffers returned with {@link FramePool.release} and kept for reuse. */
  released: number;
  /** Buffers returned while the pool was full (left to the GC). */
  discarded: number;
  /** Bytes of free buffers held now. */
  pooledBytes: number;
}

/** Smallest size class (small frames share 4 KiB buffers). */
const MIN_CLASS = 4096;

/**
 * The buffer size used for a request of `size` bytes: 4 KiB at least, else `size` rounded up to an eighth of its
 * power of two (at most 12.5% slack), so frames of a steady size (and the 12-byte header beyond a round payload
 * size) reuse the same buffers without doubling them.
 */
export function frameBufferClass(size: number): number {
  if (size <= MIN_CLASS) return MIN_CLASS;
  const step = 2 ** (Math.floor(Math.log2(size)) - 3);
  return Math.ceil(size / step) * step;
}

type BufferLike = { allocUnsafeSlow(size: number): Uint8Array };
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

function allocateBacking(size: number): ArrayBuffer {
  // Uninitialised memory: the framer writes every byte of a frame before handing it out.
  if (!NodeBuffer) return new ArrayBuffer(size);
  return NodeBuffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
}

/**
 * Reusable frame buffers for the receive path (the `allocate` of a net-utils `LengthFramer`). A fresh multi-MB
 * buffer per frame costs page faults on first touch and garbage-collector work per frame; a pooled one is already
 * mapped and warm.
 *
 * Ownership: {@link allocate} lends a buffer (a view of exactly the requested length over a backing store of the
 * size class); it is never handed out again until {@link release} returns it. A buffer that is never released is
 * simply garbage collected like any other (the pool keeps no strong reference to lent buffers), so a consumer
 * that keeps a frame loses nothing but the reuse. An empty pool allocates: it never blocks and never drops data.
 */
export class FramePool {
  readonly maxPooledBytes: number;
  readonly stats: FramePoolStats = { allocated: 0, reused: 0, released: 0, discarded: 0, pooledBytes: 0 };
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Backing stores lent out and not yet released (weak: an unreleased frame is collected normally). */
  private readonly lent = new WeakSet<ArrayBuffer>();
  private closed = false;

  constructor(options: FramePoolOptions) {
    const max = options.maxPooledBytes;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new ValueOutOfRangeError('maxPooledBytes', `${max} is not a non-negative integer`);
    }
    this.maxPooledBytes = max;
  }

  /** A buffer of exactly `size` bytes (uninitialised or holding an earlier frame's bytes: overwrite all of it). */
  allocate(size: number): Uint8Array {
    if (!Number.isSafeInteger(size) || size < 0) throw new ValueOutOfRangeError('size', `${size} is not a size`);
    const cls = frameBufferClass(size);
    const list = this.free.get(cls);
    let backing = list?.pop();
    if (backing !== undefined) {
      this.stats.reused++;
      this.stats.pooledBytes -= cls;
    } else {
      backing = allocateBacking(cls);
      this.stats.allocated++;
    }
    this.lent.add(backing);
    return new Uint8Array(backing, 0, size);
  }

  /** True when `bytes` is a view of a buffer this pool lent and that was not released yet. */
  owns(bytes: Uint8Array): boolean {
    return this.lent.has(bytes.buffer as ArrayBuffer);
  }

  /**
   * Returns the buffer `bytes` is a view of (any view of it). Returns false, doing nothing, when the buffer is not
   * one this pool has lent (a frame that was a view of a TCP chunk) or was already released. The caller must not
   * touch the buffer afterwards: the next frame may be assembled in it.
   */
  release(bytes: Uint8Array): boolean {
    const backing = bytes.buffer as ArrayBuffer;
    if (!this.lent.delete(backing)) return false;
    const cls = backing.byteLength;
    if (this.closed || this.stats.pooledBytes + cls > this.maxPooledBytes) {
      this.stats.discarded++;
      return true;
    }
    let list = this.free.get(cls);
    if (list === undefined) {
      list = [];
      this.free.set(cls, list);
    }
    list.push(backing);
    this.stats.pooledBytes += cls;
    this.stats.released++;
    return true;
  }

  /** Drops every free buffer (lent ones stay valid). */
  clear(): void {
    this.free.clear();
    this.stats.pooledBytes = 0;
  }

  /** Drops every free buffer and keeps none from now on (buffers released later are left to the GC). */
  close(): void {
    this.clear();
    this.closed = true;
  }
}
