import { copyBytes, FrameTooLargeError, LengthFramer, ProtocolError, ValueOutOfRangeError } from '@cam/net-utils/wire';
import {
  MAX_PACKET_SIZE,
  MAX_XML_CHUNK,
  MAX_XML_TOTAL,
  PACKET_HEADER_SIZE,
  SDK_CMD_HEADER_SIZE,
  SdkCmd,
} from './constants.js';
import { HErrorCode } from './error-codes.js';
import { checkPacketHeader, decodePacket, type SdkPacket } from './packets.js';

/** Options of {@link encodeSdkCall}. */
export interface SdkChunkOptions {
  /**
   * XML bytes per packet: `9 * 1024 - 12` (the note's `XmlMaxLength`, default) or 9200 (what the vendor C++ SDK
   * sends); any value 1..9204 is accepted.
   */
  chunkSize?: number;
}

/**
 * Splits one XML document into kSDKCmdAsk (or kSDKCmdAnswer) packets, all written into one buffer (ready for a single
 * socket write). Index = byte offset of each chunk. An empty document is sent as one packet with total 0.
 */
export function encodeSdkCall(
  xml: Uint8Array,
  type: 'kSDKCmdAsk' | 'kSDKCmdAnswer' = 'kSDKCmdAsk',
  options: SdkChunkOptions = {},
): Uint8Array {
  const chunk = options.chunkSize ?? MAX_XML_CHUNK;
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > MAX_XML_CHUNK) {
    throw new ValueOutOfRangeError('chunkSize', `${chunk} is not in 1..${MAX_XML_CHUNK}`);
  }
  const total = xml.byteLength;
  if (total > MAX_XML_TOTAL) throw new FrameTooLargeError(total, MAX_XML_TOTAL, 'SDK XML document');
  const packets = Math.max(1, Math.ceil(total / chunk));
  const out = new Uint8Array(total + packets * SDK_CMD_HEADER_SIZE);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const cmd = SdkCmd[type];
  let o = 0;
  for (let index = 0, i = 0; i < packets; i++, index += chunk) {
    const n = Math.min(chunk, total - index);
    view.setUint16(o, SDK_CMD_HEADER_SIZE + n, true);
    view.setUint16(o + 2, cmd, true);
    view.setUint32(o + 4, total, true);
    view.setUint32(o + 8, index, true);
    out.set(xml.subarray(index, index + n), o + SDK_CMD_HEADER_SIZE);
    o += SDK_CMD_HEADER_SIZE + n;
  }
  return out;
}

/** A chunked SDK call broke the reassembly rules; `code` is the HErrorCode a device answers with. */
export class SdkChunkError extends ProtocolError {
  static override readonly errorName: string = 'SdkChunkError';
  constructor(message: string, code: number) {
    super(message, code);
  }
}

/**
 * Reassembles the chunks of one SDK call. Each chunk must continue exactly where the previous one ended
 * (else kInvalidXmlIndex); `total` must stay the same and be at most `maxTotal` (else kXmlCmdTooLong). The buffer of
 * `total` bytes is allocated only after `total` was checked.
 */
export class SdkCallAssembler {
  private buffer: Uint8Array | null = null;
  private filled = 0;
  private readonly maxTotal: number;

  constructor(maxTotal = MAX_XML_TOTAL) {
    this.maxTotal = maxTotal;
  }

  /** True while a call is partly received. */
  get busy(): boolean {
    return this.buffer !== null;
  }

  /** Adds a chunk; returns the whole document when it is complete, else undefined. */
  push(chunk: { total: number; index: number; data: Uint8Array }): Uint8Array | undefined {
    const { total, index, data } = chunk;
    if (total > this.maxTotal) {
      this.reset();
      throw new SdkChunkError(`SDK call of ${total} bytes exceeds ${this.maxTotal}`, HErrorCode.kXmlCmdTooLong);
    }
    if (this.buffer === null) {
      if (index !== 0) {
        throw new SdkChunkError(`first chunk of a call has index ${index}, expected 0`, HErrorCode.kInvalidXmlIndex);
      }
      if (data.byteLength === total) return copyBytes(data);
      this.buffer = new Uint8Array(total);
      this.filled = 0;
    } else if (total !== this.buffer.byteLength || index !== this.filled) {
      const expected = this.filled;
      const was = this.buffer.byteLength;
      this.reset();
      throw new SdkChunkError(
        total !== was
          ? `chunk announces total ${total}, the call in progress has ${was}`
          : `chunk has index ${index}, expected ${expected}`,
        HErrorCode.kInvalidXmlIndex,
      );
    }
    if (index + data.byteLength > total) {
      this.reset();
      throw new SdkChunkError(
        `chunk at ${index} of ${data.byteLength} bytes runs past total ${total}`,
        HErrorCode.kXmlCmdTooLong,
      );
    }
    this.buffer.set(data, this.filled);
    this.filled += data.byteLength;
    if (this.filled < total) return undefined;
    const whole = this.buffer;
    this.reset();
    return whole;
  }

  reset(): void {
    this.buffer = null;
    this.filled = 0;
  }
}

/**
 * Streaming decoder: feed TCP chunks split anywhere, get whole packets. Built on the net-utils LengthFramer
 * (u16 little-endian length counting the header); the header is checked (known command, 4 <= len <= 9 * 1024)
 * before any body is buffered. After an error the decoder stays failed (the connection must be closed).
 */
export class SdkPacketDecoder {
  readonly framer: LengthFramer;
  private readonly frames: Uint8Array[] = [];

  constructor() {
    this.framer = new LengthFramer(sdkFraming());
  }

  /** Packets completed by `chunk`; `data` fields are views valid until the caller drops them. */
  push(chunk: Uint8Array): SdkPacket[] {
    this.frames.length = 0;
    this.framer.pushTo(chunk, this.frames);
    const out: SdkPacket[] = [];
    for (const f of this.frames) out.push(decodePacket(f));
    this.frames.length = 0;
    return out;
  }

  /** Throws when the stream ended inside a packet. */
  end(): void {
    this.framer.end();
  }
}

/** LengthFramer options of this protocol (for `readFrames`). */
export function sdkFraming(): ConstructorParameters<typeof LengthFramer>[0] {
  return {
    headerSize: PACKET_HEADER_SIZE,
    lengthFieldOffset: 0,
    lengthFieldSize: 2,
    littleEndian: true,
    lengthIncludesHeader: true,
    maxFrameSize: MAX_PACKET_SIZE,
    validateHeader: (header, offset) => {
      checkPacketHeader(header, offset);
    },
  };
}
