import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ProtocolError } from '@cam/net-utils';
import { MAX_FILE_CONTENT_CHUNK, PACKET_HEADER_SIZE, SdkCmd } from '../codec/constants.js';

const HASH_BLOCK = 4 << 20;

/**
 * MD5 of a file as 32 lowercase hex digits, in bounded memory (two reused 4 MiB blocks); only the first `length`
 * bytes if given. The next block is read (on libuv's thread pool) while the current one is hashed, so the pass costs
 * about the hashing alone when the file is in the page cache.
 */
export async function md5File(path: string, options: { length?: number; signal?: AbortSignal } = {}): Promise<string> {
  const hash = createHash('md5');
  const signal = options.signal;
  signal?.throwIfAborted();
  const fh = await open(path, 'r');
  try {
    const total = options.length ?? (await fh.stat()).size;
    let block = Buffer.allocUnsafe(Math.max(1, Math.min(HASH_BLOCK, total)));
    let spare = Buffer.allocUnsafe(block.byteLength);
    let offset = 0;
    const readAt = (buf: Buffer, at: number) => fh.read(buf, 0, Math.min(buf.byteLength, total - at), at);
    let pending = offset < total ? readAt(block, offset) : null;
    while (pending) {
      const { bytesRead } = await pending;
      signal?.throwIfAborted();
      if (bytesRead <= 0) throw new ProtocolError(`file ${path} is shorter than ${total} bytes`);
      offset += bytesRead;
      const current = block;
      [block, spare] = [spare, block];
      pending = offset < total ? readAt(block, offset) : null;
      hash.update(bytesRead === current.byteLength ? current : current.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/** What identifies one version of a file: same inode, size, modification and change times (nanoseconds). */
interface Md5CacheEntry {
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  md5: string;
}

/**
 * Remembers the MD5 of files already hashed, keyed by device and inode and valid while the size, mtime and ctime (in
 * nanoseconds) are unchanged: the kernel moves ctime on every write, so a rewritten file is hashed again. The SDK
 * protocol puts a file's MD5 in the first packet of an upload, so a cold upload reads the whole file once before
 * sending it; uploading the same file again (to the next controller of a wall, or after a failure) skips that pass.
 * Bounded: the least recently used entries go first.
 */
export class Md5Cache {
  /** The process-wide cache `SdkClient` uses unless told otherwise. */
  static readonly shared = new Md5Cache();
  private readonly entries = new Map<string, Md5CacheEntry>();
  readonly maxEntries: number;
  /** Counters, for diagnostics. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? 1024;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    this.maxEntries = max;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The MD5 of the file at `path`, from the cache when the file is unchanged since it was hashed. */
  async md5(path: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const before = await stat(path, { bigint: true });
    const key = `${before.dev}:${before.ino}`;
    const known = this.entries.get(key);
    if (known && sameVersion(known, before)) {
      this.entries.delete(key);
      this.entries.set(key, known);
      this.stats.hits++;
      return known.md5;
    }
    this.stats.misses++;
    const md5 = await md5File(path, {
      length: Number(before.size),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // Only remember a hash of a file that did not change while it was read.
    const after = await stat(path, { bigint: true });
    if (sameVersion({ size: before.size, mtimeNs: before.mtimeNs, ctimeNs: before.ctimeNs, md5 }, after)) {
      this.entries.delete(key);
      this.entries.set(key, { size: after.size, mtimeNs: after.mtimeNs, ctimeNs: after.ctimeNs, md5 });
      while (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest === undefined) break;
        this.entries.delete(oldest);
      }
    }
    return md5;
  }

  /** Forgets the file at `path` (for example after a device reported an MD5 mismatch). */
  async forget(path: string): Promise<void> {
    try {
      const s = await stat(path, { bigint: true });
      this.entries.delete(`${s.dev}:${s.ino}`);
    } catch {
      // Gone: nothing to forget that could match it again.
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

function sameVersion(e: Md5CacheEntry, s: BigIntStats): boolean {
  return e.size === s.size && e.mtimeNs === s.mtimeNs && e.ctimeNs === s.ctimeNs;
}

export function md5Bytes(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/**
 * Wraps `data` into kFileContentAsk packets of at most 9 * 1024 bytes, all in one new buffer (one copy), so a
 * whole batch goes out in one socket write.
 */
export function packFileContent(data: Uint8Array): Uint8Array {
  const n = data.byteLength;
  const packets = Math.ceil(n / MAX_FILE_CONTENT_CHUNK);
  const out = new Uint8Array(n + packets * PACKET_HEADER_SIZE);
  let o = 0;
  for (let i = 0; i < n; i += MAX_FILE_CONTENT_CHUNK) {
    const len = Math.min(MAX_FILE_CONTENT_CHUNK, n - i);
    const plen = len + PACKET_HEADER_SIZE;
    out[o] = plen & 0xff;
    out[o + 1] = plen >>> 8;
    out[o + 2] = SdkCmd.kFileContentAsk & 0xff;
    out[o + 3] = SdkCmd.kFileContentAsk >>> 8;
    out.set(data.subarray(i, i + len), o + PACKET_HEADER_SIZE);
    o += plen;
  }
  return out;
}
