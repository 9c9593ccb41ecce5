import { MalformedError } from '@cam/net-utils/wire';

/** One chunk: its ChunkID and its data. */
export interface Chunk {
  id: number;
  data: Uint8Array;
}

/** Bytes of the tag after each chunk's data: ChunkID and length, big-endian 32-bit each. */
export const CHUNK_TAG_SIZE = 8;

/** Most chunks one payload may hold (a hostile payload of tags cannot make the walk run long). */
export const MAX_CHUNKS = 4096;

/** Bytes {@link encodeChunks} writes for `chunks`. */
export function encodedLengthChunks(chunks: readonly Chunk[]): number {
  let n = 0;
  for (const c of chunks) n += c.data.byteLength + CHUNK_TAG_SIZE;
  return n;
}

/**
 * GigE Vision chunk layout: each chunk is its data followed by a tag (ChunkID, then the data length, both 32-bit
 * big-endian), so a reader finds the chunks walking back from the end of the payload. Data lengths must be
 * multiples of 4, as the layout requires.
 */
export function encodeChunks(chunks: readonly Chunk[]): Uint8Array {
  const out = new Uint8Array(encodedLengthChunks(chunks));
  const view = new DataView(out.buffer);
  let o = 0;
  for (const c of chunks) {
    if (c.data.byteLength % 4 !== 0)
      throw new MalformedError(o, `chunk 0x${c.id.toString(16)} has ${c.data.byteLength} bytes, not a multiple of 4`);
    out.set(c.data, o);
    o += c.data.byteLength;
    view.setUint32(o, c.id >>> 0);
    view.setUint32(o + 4, c.data.byteLength);
    o += CHUNK_TAG_SIZE;
  }
  return out;
}

/**
 * The chunks of a payload, walking back from its end. The first chunk may start before `bytes` (the image chunk,
 * when only the appended chunk data is given: its tag is there, its data is not); it is returned without data.
 * Throws MalformedError for a tag that does not fit or a payload of more than {@link MAX_CHUNKS} chunks.
 */
export function decodeChunks(bytes: Uint8Array): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  let end = bytes.byteLength;
  while (end > 0) {
    if (chunks.length >= MAX_CHUNKS) throw new MalformedError(end, `more than ${MAX_CHUNKS} chunks`);
    if (end < CHUNK_TAG_SIZE) throw new MalformedError(0, `${end} bytes before the first chunk tag`);
    const id = view.getUint32(end - 8);
    const length = view.getUint32(end - 4);
    const start = end - CHUNK_TAG_SIZE - length;
    if (start < 0) {
      if (end === CHUNK_TAG_SIZE) {
        // the leading chunk (the image) lies before the appended chunk data
        chunks.unshift({ id, data: new Uint8Array(0) });
        break;
      }
      throw new MalformedError(end - 4, `chunk 0x${id.toString(16)} of ${length} bytes runs before the payload`);
    }
    chunks.unshift({ id, data: bytes.subarray(start, end - CHUNK_TAG_SIZE) });
    end = start;
  }
  return chunks;
}
