/**
 * Media codec: the framings of an EHome media TCP connection ($-interleaved RTP, or a 256-byte private header then
 * RTP) carrying MPEG-PS, in both directions, split anywhere. Pure: no I/O, no node: imports.
 */
import { MalformedError, TruncatedError, ValueOutOfRangeError } from '@cam/net-utils/wire';
import { type AccessUnit, muxPs, PsDemuxer, PsStreamType, plainBytes } from './ps.js';
import { encodeRtpInto, RTP_PAYLOAD_TYPE_PS, RtpSequenceTracker } from './rtp.js';

/** How a device frames its media over TCP (both occur in public captures). */
export type MediaFraming = 'rtp-interleaved' | 'private-header';

/** Size of the private header some devices send before the interleaved RTP stream. */
export const PRIVATE_HEADER_SIZE = 256;
/** First four bytes of that private header. */
export const PRIVATE_HEADER_MAGIC = Uint8Array.of(0x01, 0x00, 0x01, 0x00);
/** `$`, the first byte of each interleaved frame. */
export const INTERLEAVED_MAGIC = 0x24;
/** The stray byte some devices add after the 12-byte RTP header. */
export const STRAY_BYTE = 0x0d;

/** Events out of a {@link MediaStreamDecoder}. */
export type MediaEvent =
  | { type: 'access-unit'; accessUnit: AccessUnit }
  | { type: 'ps'; bytes: Uint8Array }
  | { type: 'gap'; lost: number; sequenceNumber: number };

/** Options of {@link MediaStreamDecoder}. */
export interface MediaStreamDecoderOptions {
  /** Also emit the raw PS bytes of each RTP packet (`ps` events). Default false. */
  emitPs?: boolean;
  /** Largest access unit; larger -> FrameTooLargeError. Default 8 MiB. */
  maxAccessUnitSize?: number;
  /** Force a framing instead of detecting it from the first bytes. */
  framing?: MediaFraming;
}

/** Counters of a {@link MediaStreamDecoder}. */
export interface MediaStreamStats {
  bytes: number;
  rtpPackets: number;
  rtcpPackets: number;
  lostPackets: number;
  latePackets: number;
  strayBytesRemoved: number;
  accessUnits: number;
}

/** Largest interleaved frame: the 4-byte `$` header and a 16-bit length. */
const MAX_INTERLEAVED_FRAME = 4 + 0xffff;

/**
 * Decodes the TCP byte stream an EHome device pushes for preview or playback: detects the framing from the first
 * bytes (`$` -> interleaved RTP; `01 00 01 00` -> 256-byte private header, then interleaved RTP), unframes RTP
 * (channel 0 = RTP, odd channels = RTCP, counted and ignored), removes the stray 0x0D byte some devices put after
 * the RTP header, follows sequence numbers, and demuxes the MPEG-PS payload into access units.
 *
 * The stray byte: it is detected on the first RTP packet (payload starting `0D 00 00 01`), and from then on one
 * leading 0x0D is removed from every packet of the session, since such devices add it to every packet.
 *
 * Hot path: an interleaved frame that lies whole in a TCP chunk is read in place by offsets (no view, object or
 * DataView per packet), and its PS payload goes straight to {@link PsDemuxer.pushRange}, which copies the
 * elementary-stream bytes once, into the access unit. Only a frame split between two chunks is staged (one reused
 * 64 KiB buffer).
 *
 * Any framing error throws a typed error, and so does every later call; the caller closes the connection.
 */
export class MediaStreamDecoder {
  private readonly options: MediaStreamDecoderOptions;
  private framingValue: MediaFraming | undefined;
  private readonly prefix = new Uint8Array(PRIVATE_HEADER_SIZE);
  private prefixFill = 0;
  /** A frame split between chunks: its bytes so far, and its total length once its header is in (else 0). */
  private pending: Uint8Array | undefined;
  private pendingFill = 0;
  private pendingTotal = 0;
  /** Stream offset of the next byte to frame, for error messages. */
  private offset = 0;
  private failure: Error | undefined;
  private readonly demuxer: PsDemuxer;
  private readonly sequence = new RtpSequenceTracker();
  private strayMode: boolean | undefined;
  private readonly aus: AccessUnit[] = [];
  /** The 256-byte private header, when the device sent one. */
  privateHeader: Uint8Array | undefined;
  readonly stats: MediaStreamStats = {
    bytes: 0,
    rtpPackets: 0,
    rtcpPackets: 0,
    lostPackets: 0,
    latePackets: 0,
    strayBytesRemoved: 0,
    accessUnits: 0,
  };

  constructor(options: MediaStreamDecoderOptions = {}) {
    this.options = options;
    this.framingValue = options.framing;
    this.demuxer = new PsDemuxer(
      options.maxAccessUnitSize === undefined ? {} : { maxAccessUnitSize: options.maxAccessUnitSize },
    );
  }

  /** The detected (or forced) framing; undefined until enough bytes arrived. */
  get framing(): MediaFraming | undefined {
    return this.framingValue;
  }

  /** Feeds a TCP chunk of any size; returns the events it completed. */
  push(chunk: Uint8Array): MediaEvent[] {
    const events: MediaEvent[] = [];
    this.pushTo(chunk, events);
    return events;
  }

  /**
   * Like {@link push}, appending the events to `events` (no array per chunk). `ps` events are views into `chunk`
   * when the packet lay whole in it.
   */
  pushTo(chunk: Uint8Array, events: MediaEvent[]): void {
    if (this.failure) throw this.failure;
    try {
      this.consume(plainBytes(chunk), events);
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
  }

  /** Gives an access unit's data back for reuse (see {@link PsDemuxer.recycle}). */
  recycle(data: Uint8Array): void {
    this.demuxer.recycle(data);
  }

  /** End of stream: returns the last access unit; throws {@link TruncatedError} if it ended mid-packet. */
  end(): MediaEvent[] {
    if (this.failure) throw this.failure;
    try {
      if (this.framingValue === 'private-header' && !this.privateHeader && this.prefixFill > 0) {
        throw new TruncatedError(0, PRIVATE_HEADER_SIZE, this.prefixFill, 'private media header');
      }
      if (this.pendingFill > 0) {
        throw new TruncatedError(
          this.offset,
          this.pendingTotal > 0 ? this.pendingTotal : 4,
          this.pendingFill,
          'interleaved frame at end of stream',
        );
      }
      const events: MediaEvent[] = [];
      this.aus.length = 0;
      this.emit(this.demuxer.end(this.aus), events);
      return events;
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
  }

  private consume(chunk: Uint8Array, events: MediaEvent[]): void {
    this.stats.bytes += chunk.byteLength;
    let b = chunk;
    if (this.framingValue === undefined || (this.framingValue === 'private-header' && !this.privateHeader)) {
      const before = b.length;
      b = this.consumePrefix(b);
      this.offset += before - b.length;
    }
    const n = b.length;
    let p = 0;
    while (p < n) {
      if (this.pendingFill > 0) {
        p = this.continuePending(b, p, events);
        continue;
      }
      if (n - p >= 4) {
        const total = this.frameLength(b, p);
        if (n - p >= total) {
          this.onFrame(b, p, p + total, events);
          p += total;
          this.offset += total;
          continue;
        }
      }
      // A frame (or its header) split between chunks: stage what is here.
      this.pending ??= new Uint8Array(MAX_INTERLEAVED_FRAME);
      this.pending.set(b.subarray(p, n));
      this.pendingFill = n - p;
      this.pendingTotal = this.pendingFill >= 4 ? this.frameLength(this.pending, 0) : 0;
      p = n;
    }
  }

  /** Adds bytes of `b` from `p` to the staged frame; decodes it once whole. Returns the next position in `b`. */
  private continuePending(b: Uint8Array, p: number, events: MediaEvent[]): number {
    const pending = this.pending!;
    if (this.pendingTotal === 0) {
      const take = Math.min(4 - this.pendingFill, b.length - p);
      for (let i = 0; i < take; i++) pending[this.pendingFill + i] = b[p + i]!;
      this.pendingFill += take;
      p += take;
      if (this.pendingFill < 4) return p;
      this.pendingTotal = this.frameLength(pending, 0);
    }
    const take = Math.min(this.pendingTotal - this.pendingFill, b.length - p);
    pending.set(b.subarray(p, p + take), this.pendingFill);
    this.pendingFill += take;
    p += take;
    if (this.pendingFill === this.pendingTotal) {
      const total = this.pendingTotal;
      this.pendingFill = 0;
      this.pendingTotal = 0;
      this.onFrame(pending, 0, total, events);
      this.offset += total;
    }
    return p;
  }

  /** Total length of the interleaved frame whose 4-byte header is at `b[s]`. */
  private frameLength(b: Uint8Array, s: number): number {
    if (b[s] !== INTERLEAVED_MAGIC) {
      throw new MalformedError(
        this.offset,
        `interleaved frame starts with 0x${b[s]!.toString(16)}, expected '$' (0x24)`,
      );
    }
    return 4 + ((b[s + 2]! << 8) | b[s + 3]!);
  }

  private consumePrefix(data: Uint8Array): Uint8Array {
    if (this.framingValue === undefined) {
      // Decide from the first byte, or the first four for the private header.
      const first = this.prefixFill > 0 ? this.prefix[0]! : data[0]!;
      if (first === INTERLEAVED_MAGIC) {
        this.framingValue = 'rtp-interleaved';
        const held = this.prefix.subarray(0, this.prefixFill);
        this.prefixFill = 0;
        if (held.length === 0) return data;
        const joined = new Uint8Array(held.length + data.length);
        joined.set(held);
        joined.set(data, held.length);
        return joined;
      }
      const take = Math.min(4 - this.prefixFill, data.length);
      this.prefix.set(data.subarray(0, take), this.prefixFill);
      this.prefixFill += take;
      data = data.subarray(take);
      if (this.prefixFill < 4) return data;
      for (let i = 0; i < 4; i++) {
        if (this.prefix[i] !== PRIVATE_HEADER_MAGIC[i]) {
          throw new MalformedError(
            0,
            'media stream starts with neither "$" (interleaved RTP) nor 01 00 01 00 (private header)',
          );
        }
      }
      this.framingValue = 'private-header';
    }
    const take = Math.min(PRIVATE_HEADER_SIZE - this.prefixFill, data.length);
    this.prefix.set(data.subarray(0, take), this.prefixFill);
    this.prefixFill += take;
    if (this.prefixFill === PRIVATE_HEADER_SIZE) this.privateHeader = this.prefix.slice();
    return data.subarray(take);
  }

  /** One whole interleaved frame `b[s..e)`: RTP header read in place (decodeRtp() is the general API). */
  private onFrame(b: Uint8Array, s: number, e: number, events: MediaEvent[]): void {
    if (b[s + 1]! % 2 === 1) {
      this.stats.rtcpPackets++;
      return;
    }
    const n = e - s;
    const at = this.offset + 4;
    if (n < 16) throw new TruncatedError(at, 12, n - 4, 'RTP header');
    const b0 = b[s + 4]!;
    if (b0 >>> 6 !== 2) throw new MalformedError(at, `RTP version ${b0 >>> 6}, expected 2`);
    let start = s + 16 + (b0 & 0x0f) * 4;
    if (b0 & 0x10) {
      if (start + 4 > e) throw new TruncatedError(at + start - s - 4, 4, e - start, 'RTP extension header');
      start += 4 + ((b[start + 2]! << 8) | b[start + 3]!) * 4;
    }
    let end = e;
    if (b0 & 0x20) end -= b[e - 1]!;
    if (start > end || (b0 & 0x20 && b[e - 1] === 0))
      throw new MalformedError(at, 'RTP header, extension or padding overruns the packet');
    const marker = (b[s + 5]! & 0x80) !== 0;
    const sequenceNumber = (b[s + 6]! << 8) | b[s + 7]!;
    this.stats.rtpPackets++;
    const gap = this.sequence.track(sequenceNumber);
    if (gap > 0) {
      this.stats.lostPackets = this.sequence.lost;
      events.push({ type: 'gap', lost: gap, sequenceNumber });
    }
    this.stats.latePackets = this.sequence.late;
    if (this.strayMode === undefined && end - start >= 4) {
      this.strayMode = b[start] === STRAY_BYTE && b[start + 1] === 0 && b[start + 2] === 0 && b[start + 3] === 1;
    }
    if (this.strayMode && start < end && b[start] === STRAY_BYTE) {
      start++;
      this.stats.strayBytesRemoved++;
    }
    if (start === end) return;
    if (this.options.emitPs) {
      // A staged frame's buffer is reused for the next one: copy; otherwise a view into the caller's chunk.
      events.push({ type: 'ps', bytes: b === this.pending ? b.slice(start, end) : b.subarray(start, end) });
    }
    // `aus` is empty here (emit() empties it); setting an array's length is a runtime call, kept off this path.
    this.demuxer.pushRange(b, start, end, this.aus);
    if (marker) this.demuxer.flush(this.aus);
    if (this.aus.length > 0) this.emit(this.aus, events);
  }

  private emit(aus: AccessUnit[], events: MediaEvent[]): void {
    for (const au of aus) {
      this.stats.accessUnits++;
      events.push({ type: 'access-unit', accessUnit: au });
    }
    aus.length = 0;
  }
}

/** Options of {@link MediaStreamEncoder}. */
export interface MediaStreamEncoderOptions {
  framing: MediaFraming;
  /** Add the stray 0x0D after each RTP header, like some devices. Default false. */
  strayByte?: boolean;
  /** Largest RTP payload. Default 1400. */
  maxPayload?: number;
  ssrc?: number;
  payloadType?: number;
  /** Stream type written into the PSM. Default H.264. */
  streamType?: number;
  /** Interleaved channel of RTP. Default 0. */
  channel?: number;
  /** First RTP sequence number. Default random. */
  initialSequence?: number;
}

/**
 * The device side of {@link MediaStreamDecoder}: access unit -> MPEG-PS -> RTP packets -> interleaved frames
 * (preceded once by the 256-byte private header when that framing is chosen).
 */
export class MediaStreamEncoder {
  private readonly options: Required<Omit<MediaStreamEncoderOptions, 'initialSequence'>>;
  private sequence: number;
  private headerSent = false;

  constructor(options: MediaStreamEncoderOptions) {
    const maxPayload = options.maxPayload ?? 1400;
    if (!Number.isInteger(maxPayload) || maxPayload < 16 || maxPayload > 0xffff - 13) {
      throw new ValueOutOfRangeError('maxPayload', `${maxPayload} not in 16..${0xffff - 13}`);
    }
    this.options = {
      framing: options.framing,
      strayByte: options.strayByte ?? false,
      maxPayload,
      ssrc: options.ssrc ?? Math.floor(Math.random() * 0xffffffff),
      payloadType: options.payloadType ?? RTP_PAYLOAD_TYPE_PS,
      streamType: options.streamType ?? PsStreamType.H264,
      channel: options.channel ?? 0,
    };
    this.sequence = options.initialSequence ?? Math.floor(Math.random() * 0x10000);
  }

  /** The private header bytes (magic, then the codec and zeros). */
  static privateHeader(streamType: number = PsStreamType.H264): Uint8Array {
    const h = new Uint8Array(PRIVATE_HEADER_SIZE);
    h.set(PRIVATE_HEADER_MAGIC, 0);
    h[4] = streamType;
    return h;
  }

  /** Encodes one access unit; returns the bytes to write to the socket (one buffer). */
  encode(au: { data: Uint8Array; pts: number; dts?: number; keyframe: boolean }): Uint8Array {
    const ps = muxPs({ ...au, streamType: this.options.streamType });
    const { maxPayload, strayByte, framing } = this.options;
    const packets = Math.ceil(ps.length / maxPayload);
    const header = framing === 'private-header' && !this.headerSent ? PRIVATE_HEADER_SIZE : 0;
    const stray = strayByte ? 1 : 0;
    const out = new Uint8Array(header + ps.length + packets * (4 + 12 + stray));
    let o = 0;
    if (header) {
      out.set(MediaStreamEncoder.privateHeader(this.options.streamType), 0);
      o = header;
      this.headerSent = true;
    }
    for (let i = 0; i < packets; i++) {
      const chunk = ps.subarray(i * maxPayload, Math.min(ps.length, (i + 1) * maxPayload));
      const payload = stray ? prependStray(chunk) : chunk;
      const rtpLength = 12 + payload.length;
      out[o] = INTERLEAVED_MAGIC;
      out[o + 1] = this.options.channel;
      out[o + 2] = rtpLength >>> 8;
      out[o + 3] = rtpLength & 0xff;
      o += 4;
      o += encodeRtpInto(
        {
          marker: i === packets - 1,
          payloadType: this.options.payloadType,
          sequenceNumber: this.sequence,
          timestamp: (au.dts ?? au.pts) >>> 0,
          ssrc: this.options.ssrc,
          payload,
        },
        out,
        o,
      );
      this.sequence = (this.sequence + 1) & 0xffff;
    }
    return out.subarray(0, o);
  }
}

function prependStray(chunk: Uint8Array): Uint8Array {
  const p = new Uint8Array(chunk.length + 1);
  p[0] = STRAY_BYTE;
  p.set(chunk, 1);
  return p;
}
