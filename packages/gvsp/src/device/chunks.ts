import { CHUNK_TAG_SIZE, type Chunk, encodeChunks } from '@cam/genicam';
import { CHUNK_DATA_LENGTH, ChunkId, type ChunkName } from '@cam/gvcp';

/** What the chunks of one frame say. */
export interface FrameChunkValues {
  timestamp: bigint;
  frameId: bigint;
  /** us */
  exposureTime: number;
  /** dB */
  gain: number;
}

/**
 * The chunk data a simulated camera appends to a frame's image: the image chunk's tag (its data is the image before
 * it), then each enabled chunk (64-bit big-endian values) with its tag, in the GigE Vision chunk layout.
 */
export function frameChunkData(imageLength: number, enabled: readonly ChunkName[], v: FrameChunkValues): Uint8Array {
  const chunks: Chunk[] = [];
  for (const name of enabled) {
    const data = new Uint8Array(CHUNK_DATA_LENGTH);
    const view = new DataView(data.buffer);
    if (name === 'Timestamp') view.setBigUint64(0, v.timestamp);
    else if (name === 'FrameID') view.setBigUint64(0, v.frameId);
    else if (name === 'ExposureTime') view.setFloat64(0, v.exposureTime);
    else view.setFloat64(0, v.gain);
    chunks.push({ id: ChunkId[name], data });
  }
  const body = encodeChunks(chunks);
  const out = new Uint8Array(CHUNK_TAG_SIZE + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, ChunkId.Image);
  view.setUint32(4, imageLength);
  out.set(body, CHUNK_TAG_SIZE);
  return out;
}
