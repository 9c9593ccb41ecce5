import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { MAX_FILE_CONTENT_CHUNK, PACKET_HEADER_SIZE, SdkCmd } from '../codec/constants.js';

/** MD5 of a file as 32 lowercase hex digits, streamed (bounded memory); only the first `length` bytes if given. */
export async function md5File(path: string, options: { length?: number; signal?: AbortSignal } = {}): Promise<string> {
  const hash = createHash('md5');
  if (options.length === 0) return hash.digest('hex');
  const stream = createReadStream(path, {
    highWaterMark: 1 << 20,
    ...(options.length !== undefined ? { start: 0, end: options.length - 1 } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
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
