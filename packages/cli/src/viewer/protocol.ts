/**
 * What the viewer's server and its browser app say to each other over the frame WebSocket. Pure: no `node:` import,
 * so the browser bundle shares it.
 *
 * A binary message is one frame: a little-endian u32 header length, that many bytes of UTF-8 JSON
 * ({@link FrameHeader}), then the frame's pixel bytes exactly as the receiver reassembled them. A text message is
 * JSON: {@link StatsMessage} from the server; `{ "type": "ack" }` from the browser once it has shown a frame (the
 * server sends the next one only then: one frame in flight per client, the newest waiting one wins).
 */

/** Largest header the browser accepts (a frame header is about 200 bytes). */
export const MAX_FRAME_HEADER = 4096;

/** Describes the pixel bytes that follow it. */
export interface FrameHeader {
  /** Frames completed by the receiver so far (this one included). */
  readonly frame: number;
  readonly blockId: string;
  readonly width: number;
  readonly height: number;
  /** PFNC name (`Mono8`, `BayerRG8`, ...). */
  readonly pixelFormat: string;
  readonly paddingX: number;
  /** Milliseconds since the epoch (server clock, sub-millisecond) when the receiver completed the frame. */
  readonly completedAt: number;
  /** Frames this client did not get because it was still showing an earlier one. */
  readonly dropped: number;
}

/** Receiver statistics, once a second and after each change of state. */
export interface StatsMessage {
  readonly type: 'stats';
  readonly frameRate: number;
  readonly bytesPerSecond: number;
  readonly completedFrames: number;
  readonly failures: number;
  readonly missingPackets: number;
  readonly resentPackets: number;
  /** Frames not sent to this client because it was slower than the camera. */
  readonly dropped: number;
  readonly recording: string | undefined;
  readonly error: string | undefined;
}

/** An SC_GVMP frame: the payload as the camera sent it (JPEG for the view). */
export interface ScGvmpFrameHeader {
  readonly frame: number;
  readonly seq: number;
  /** Payload kind name (`JPEG`, `H264`, `RAW`, ...). */
  readonly kind: string;
  readonly completedAt: number;
  readonly dropped: number;
}

/** SC_GVMP stream statistics. */
export interface ScGvmpStatsMessage {
  readonly type: 'stats';
  readonly frameRate: number;
  readonly framesReceived: number;
  readonly bytesReceived: number;
  readonly framesMissing: number;
  /** Image connections the camera made after the first (each one a reconnect). */
  readonly reconnects: number;
  readonly restarts: number;
  readonly state: string;
  readonly dropped: number;
  readonly error: string | undefined;
}

/** Splits a binary frame message; throws a plain Error on a malformed one (the browser shows it). */
export function decodeFrameMessage<H = FrameHeader>(buf: ArrayBuffer): { header: H; pixels: Uint8Array<ArrayBuffer> } {
  if (buf.byteLength < 4) throw new Error(`frame message of ${buf.byteLength} bytes has no header length`);
  const n = new DataView(buf).getUint32(0, true);
  if (n > MAX_FRAME_HEADER || 4 + n > buf.byteLength)
    throw new Error(`frame header length ${n} is out of bounds (${buf.byteLength} bytes)`);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n))) as H;
  return { header, pixels: new Uint8Array(buf, 4 + n) };
}

/** The head of a binary frame message: the u32 length and the JSON header (the pixels follow it on the wire). */
export function encodeFrameHeader(header: object): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  if (json.byteLength > MAX_FRAME_HEADER) throw new RangeError(`frame header of ${json.byteLength} bytes is too long`);
  const out = new Uint8Array(4 + json.byteLength);
  new DataView(out.buffer).setUint32(0, json.byteLength, true);
  out.set(json, 4);
  return out;
}

/** Builds a whole binary frame message in one buffer (the server sends head and pixels without joining them). */
export function encodeFrameMessage(header: object, pixels: Uint8Array): Uint8Array {
  const head = encodeFrameHeader(header);
  const out = new Uint8Array(head.byteLength + pixels.byteLength);
  out.set(head, 0);
  out.set(pixels, head.byteLength);
  return out;
}
