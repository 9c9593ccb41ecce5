import { pixelFormatBits } from '@cam/gvcp/codec';
import {
  GVSP_EXTENDED_HEADER_SIZE,
  GVSP_STANDARD_HEADER_SIZE,
  GvspPacketFormat,
  GvspPayloadType,
  GvspStatus,
  IP_UDP_OVERHEAD,
  isPacketGoneStatus,
} from '../codec/constants.js';
import {
  GENDC_SUBHEADER_SIZE,
  gvspAddressOffset,
  gvspAllInDataStart,
  gvspBlockIdNumber,
  gvspFormatOf,
  gvspGendcDestinationOffset,
  gvspImageLeaderBytes,
  gvspIsExtendedId,
  gvspLow24,
  gvspPacketIdOf,
  gvspPartIdOf,
  gvspPartLength,
  gvspPayloadTypeAt,
  gvspResendFlag,
  gvspStatusOf,
  gvspU32,
  IMAGE_LEADER_SIZE,
  ImageLeaderField,
  MULTIPART_LEADER_FIXED_SIZE,
  MULTIPART_PART_INFO_SIZE,
  PAYLOAD_SUBHEADER_SIZE,
} from '../codec/packet-fields.js';

/**
 * The frame reassembly engine behind {@link GvspReceiver}: no sockets, no timers, no allocation per packet.
 *
 * State lives in typed arrays indexed by slot (struct of arrays), headers are read through the codec's field
 * readers (codec/packet-fields.ts), the payload of each packet is copied once to its offset in a preallocated frame
 * buffer. The same engine runs in a worker thread, whose frame buffers travel to the main thread and back by transfer
 * ({@link GvspReassembler.lendBuffer} / {@link GvspReassembler.restoreBuffer}).
 *
 * Above 500 lines on purpose: the per-packet path, the resend scheduler and the in-order hand-over work on the same
 * struct-of-arrays slot state, which a native engine (`@cam/gvsp-native`) also reads and writes in place
 * ({@link GvspReassembler.sharedState}); split into objects, the state would need indirections on the hot path.
 */

/** Frame end states. */
export const FrameStatus = {
  COMPLETE: 0,
  MISSING_PACKETS: 1,
  TIMEOUT: 2,
  SIZE_MISMATCH: 3,
  ABORTED: 4,
} as const;
export type FrameStatusCode = (typeof FrameStatus)[keyof typeof FrameStatus];
export const FRAME_STATUS_NAMES = ['complete', 'missing-packets', 'timeout', 'size-mismatch', 'aborted'] as const;
export type FrameStatusName = (typeof FRAME_STATUS_NAMES)[number];

/** Indices of the counters array (a Float64Array so it can be shared with a worker). */
export const Counter = {
  completedFrames: 0,
  failures: 0 + 1,
  timeouts: 2,
  missingPacketFrames: 3,
  underruns: 4,
  droppedFrames: 5,
  abortedFrames: 6,
  missingFrames: 7,
  sizeMismatchErrors: 8,
  receivedPackets: 9,
  missingPackets: 10,
  errorPackets: 11,
  ignoredPackets: 12,
  resendRequests: 13,
  resentPackets: 14,
  resendRequestedPackets: 15,
  resendRatioReached: 16,
  resendDisabled: 17,
  duplicatedPackets: 18,
  transferredBytes: 19,
  ignoredBytes: 20,
  malformedPackets: 21,
  latePackets: 22,
} as const;
export type CounterName = keyof typeof Counter;
export const COUNTER_COUNT = 23;

export interface ReassemblerOptions {
  /** Bytes of the largest payload (image + chunk data) a frame can carry; each slot buffer is this big. */
  payloadSize: number;
  /** SCPS packet size in bytes including IP and UDP headers (sets the data bytes of each payload packet). */
  packetSize?: number | undefined;
  /** Frame slots (default 8). */
  slots?: number;
  /** Delay before the first resend request for a missing packet, ms (Aravis: 1 ms). */
  initialPacketTimeoutMs?: number;
  /** Delay between requests for the same packet, ms (Aravis: 20 ms). */
  packetTimeoutMs?: number;
  /** A frame with no packet for this long ends, ms (Aravis: 100 ms). */
  frameRetentionMs?: number;
  /** Largest share of a frame's packets that may be requested (Aravis: 0.25). */
  packetRequestRatio?: number;
  /** Request missing packets (default true). */
  resend?: boolean;
  /** Memory for slot (frame) buffers (default: a plain `Uint8Array` each). */
  allocate?: (bytes: number) => Uint8Array;
  /**
   * Memory for the leader and trailer copies of each slot (default: `allocate`). A worker passes a
   * SharedArrayBuffer allocator here so the main thread reads them in place.
   */
  allocateLeader?: (bytes: number) => Uint8Array;
  /** Leader/trailer bytes kept per frame (default 1024). */
  maxLeaderSize?: number;
  /**
   * Largest step of engine time per {@link GvspReassembler.tick}, ms (default: unlimited). A receiver sets a few
   * ms: when the event loop stalls, packets wait unread in the socket, and judging them missing by wall-clock
   * time would flood the device with needless resend requests. Engine time then advances at most this much per
   * tick, so a stall counts as a short pause.
   */
  maxTickStepMs?: number;
  /** Counter storage (a view of a SharedArrayBuffer when the engine runs in a worker). */
  counters?: Float64Array;
}

export interface ReassemblerHooks {
  /** Ask the device to resend packets `first..last` of `blockId` (numbers: the engine allocates no bigint). */
  requestResend(blockId: number, first: number, last: number, extendedId: boolean): void;
  /** A frame ended (complete or not); `slot` stays owned by the consumer until {@link GvspReassembler.release}. */
  frameReady(slot: number): void;
}

/** Indices of {@link GvspReassembler.scalars}. */
export const Scalar = {
  /** Engine time, ms. */
  now: 0,
  dataSize: 1,
  dataSizeExtended: 2,
  /** 1 once the packet size was set (not learned). */
  packetSizeKnown: 3,
  /** Packet size learned from packet 1 when none was set (0 until then). */
  learnedPacketSize: 4,
} as const;
const SCALAR_COUNT = 5;
/** Part offsets kept per slot (multipart, up to 256 parts). */
const PART_OFFSETS = 257;

/**
 * Typed arrays of a reassembler that a native engine reads and writes in place ({@link GvspReassembler.sharedState}).
 * `layout` lists, in order: the counter indices of receivedPackets, transferredBytes, resentPackets,
 * duplicatedPackets; the scalar indices of now, dataSize, dataSizeExtended, packetSizeKnown, learnedPacketSize;
 * the slot state "filling"; the part offsets kept per slot.
 * @internal
 */
export interface ReassemblerSharedState {
  slots: number;
  maxPackets: number;
  state: Uint8Array;
  blockIds: Float64Array;
  received: Uint8Array;
  detectTime: Float64Array;
  partOffsets: Float64Array;
  partCount: Int32Array;
  leaderLength: Int32Array;
  receivedCount: Int32Array;
  resentCount: Int32Array;
  highestId: Int32Array;
  firstMissing: Int32Array;
  lastId: Int32Array;
  lastPacketTime: Float64Array;
  dataEnd: Float64Array;
  sizeMismatch: Uint8Array;
  counters: Float64Array;
  scalars: Float64Array;
  buffers: readonly Uint8Array[];
  layout: Int32Array;
}

const SLOT_FREE = 0;
const SLOT_FILLING = 1;
const SLOT_READY = 2;
const SLOT_HELD = 3;
/** Ended, waiting for older frames to end so frames are handed over in block order. */
const SLOT_DONE = 4;

/** SCPS packet sizes (IP + UDP + GVSP header + data) the engine accepts, configured or learnt. */
const MIN_PACKET_SIZE = 64;
const MAX_PACKET_SIZE = 65535;

export class GvspReassembler {
  readonly payloadSize: number;
  readonly slotCount: number;
  readonly maxPackets: number;
  readonly counters: Float64Array;
  readonly buffers: Uint8Array[];
  /** Leader bytes (from the GVSP header on) per slot; length in `leaderLength`. */
  readonly leaders: Uint8Array[];
  readonly trailers: Uint8Array[];
  readonly leaderLength: Int32Array;
  readonly trailerLength: Int32Array;
  /** Highest byte offset written + 1 per slot: the payload bytes delivered. */
  readonly dataEnd: Float64Array;
  readonly status: Uint8Array;
  readonly blockIds: Float64Array;
  readonly extended: Uint8Array;
  readonly receivedCount: Int32Array;
  readonly resentCount: Int32Array;
  readonly expectedCount: Int32Array;

  initialPacketTimeoutMs: number;
  packetTimeoutMs: number;
  frameRetentionMs: number;
  packetRequestRatio: number;
  resend: boolean;
  /**
   * Engine time, packet geometry and the source of the last datagram, in one typed array so a native receive
   * engine (`@cam/gvsp-native`) reads and writes them in place: see {@link Scalar}.
   */
  readonly scalars = new Float64Array(SCALAR_COUNT);
  private lastReal: number | undefined;
  private readonly maxTickStep: number;
  /** Bytes a header overwrites in front of a packet's data during the copy, saved and restored. */
  private readonly scratch = new Uint8Array(64);

  private readonly state: Uint8Array;
  private readonly received: Uint8Array[];
  private readonly detectTime: Float64Array[];
  private readonly requestTime: Float64Array[];
  private readonly partOffsets: Float64Array[];
  private readonly partCount: Int32Array;
  private readonly lastId: Int32Array;
  private readonly estimatedLast: Int32Array;
  private readonly highestId: Int32Array;
  private readonly firstMissing: Int32Array;
  private readonly lastPacketTime: Float64Array;
  private readonly requested: Int32Array;
  private readonly resendOk: Uint8Array;
  private readonly newerSeen: Uint8Array;
  private readonly sizeMismatch: Uint8Array;
  private readonly order: Float64Array;
  private orderSeq = 0;
  private lastBlockId = -1;
  private lastBlockExtended = false;
  private readonly readyQueue: Int32Array;
  private readyHead = 0;
  private readyLen = 0;
  /** Every slot's `received` flags (slot-major, `maxPackets` each); `received[slot]` is a view of it. */
  private readonly receivedAll: Uint8Array;
  private readonly detectAll: Float64Array;
  private readonly partOffsetsAll: Float64Array;
  private readonly hooks: ReassemblerHooks;
  private readonly maxLeader: number;

  constructor(options: ReassemblerOptions, hooks: ReassemblerHooks) {
    if (!Number.isInteger(options.payloadSize) || options.payloadSize <= 0 || options.payloadSize > 2 ** 31) {
      throw new RangeError(`payloadSize ${options.payloadSize} must be an integer in 1..2^31`);
    }
    this.payloadSize = options.payloadSize;
    this.slotCount = Math.max(2, Math.min(256, options.slots ?? 8));
    this.initialPacketTimeoutMs = options.initialPacketTimeoutMs ?? 1;
    this.packetTimeoutMs = options.packetTimeoutMs ?? 20;
    this.frameRetentionMs = options.frameRetentionMs ?? 100;
    this.packetRequestRatio = options.packetRequestRatio ?? 0.25;
    this.resend = options.resend ?? true;
    this.maxLeader = options.maxLeaderSize ?? 1024;
    this.maxTickStep = options.maxTickStepMs ?? Number.POSITIVE_INFINITY;
    this.hooks = hooks;
    if (options.packetSize !== undefined) this.setPacketSize(options.packetSize);
    // smallest useful data size (576-byte packets) bounds the packet count a frame can have
    const minData = 576 - IP_UDP_OVERHEAD - GVSP_EXTENDED_HEADER_SIZE;
    this.maxPackets = Math.ceil(this.payloadSize / Math.min(minData, this.dataSize || minData)) + 3;
    const alloc = options.allocate ?? ((n: number) => new Uint8Array(n));
    const allocLeader = options.allocateLeader ?? alloc;
    const n = this.slotCount;
    this.counters = options.counters ?? new Float64Array(COUNTER_COUNT);
    this.buffers = [];
    this.leaders = [];
    this.trailers = [];
    this.received = [];
    this.detectTime = [];
    this.requestTime = [];
    this.partOffsets = [];
    const mp = this.maxPackets;
    this.receivedAll = new Uint8Array(n * mp);
    this.detectAll = new Float64Array(n * mp);
    this.partOffsetsAll = new Float64Array(n * PART_OFFSETS);
    for (let i = 0; i < n; i++) {
      this.buffers.push(alloc(this.payloadSize));
      this.leaders.push(allocLeader(this.maxLeader));
      this.trailers.push(allocLeader(this.maxLeader));
      this.received.push(this.receivedAll.subarray(i * mp, (i + 1) * mp));
      this.detectTime.push(this.detectAll.subarray(i * mp, (i + 1) * mp));
      this.requestTime.push(new Float64Array(mp));
      this.partOffsets.push(this.partOffsetsAll.subarray(i * PART_OFFSETS, (i + 1) * PART_OFFSETS));
    }
    this.leaderLength = new Int32Array(n);
    this.trailerLength = new Int32Array(n);
    this.dataEnd = new Float64Array(n);
    this.status = new Uint8Array(n);
    this.blockIds = new Float64Array(n);
    this.extended = new Uint8Array(n);
    this.receivedCount = new Int32Array(n);
    this.resentCount = new Int32Array(n);
    this.expectedCount = new Int32Array(n);
    this.state = new Uint8Array(n);
    this.partCount = new Int32Array(n);
    this.lastId = new Int32Array(n);
    this.estimatedLast = new Int32Array(n);
    this.highestId = new Int32Array(n);
    this.firstMissing = new Int32Array(n);
    this.lastPacketTime = new Float64Array(n);
    this.requested = new Int32Array(n);
    this.resendOk = new Uint8Array(n);
    this.newerSeen = new Uint8Array(n);
    this.sizeMismatch = new Uint8Array(n);
    this.order = new Float64Array(n);
    this.readyQueue = new Int32Array(n);
  }

  /** Sets the SCPS packet size (IP + UDP + GVSP header + data). */
  setPacketSize(packetSize: number, fixed = true): void {
    if (!Number.isInteger(packetSize) || packetSize < MIN_PACKET_SIZE || packetSize > MAX_PACKET_SIZE) {
      throw new RangeError(`packet size ${packetSize} must be an integer in ${MIN_PACKET_SIZE}..${MAX_PACKET_SIZE}`);
    }
    if (fixed) this.scalars[Scalar.packetSizeKnown] = 1;
    this.scalars[Scalar.dataSize] = packetSize - IP_UDP_OVERHEAD - GVSP_STANDARD_HEADER_SIZE;
    this.scalars[Scalar.dataSizeExtended] = packetSize - IP_UDP_OVERHEAD - GVSP_EXTENDED_HEADER_SIZE;
  }

  /** Current time in ms, refreshed by {@link tick}; packet handling reads it instead of calling a clock. */
  get now(): number {
    return this.scalars[Scalar.now]!;
  }
  set now(value: number) {
    this.scalars[Scalar.now] = value;
  }

  /** Data bytes in each full payload packet (from the packet size); 0 until known. */
  get dataSize(): number {
    return this.scalars[Scalar.dataSize]!;
  }
  get dataSizeExtended(): number {
    return this.scalars[Scalar.dataSizeExtended]!;
  }
  private get packetSizeKnown(): boolean {
    return this.scalars[Scalar.packetSizeKnown] === 1;
  }
  private get learnedPacketSize(): number {
    return this.scalars[Scalar.learnedPacketSize]!;
  }
  private set learnedPacketSize(value: number) {
    this.scalars[Scalar.learnedPacketSize] = value;
  }

  /**
   * The engine's state arrays, for a native receive engine that handles the common data packet in place (it
   * copies the payload and does this engine's per-packet bookkeeping) and hands every other datagram to
   * {@link handlePacket}, in arrival order. Resend scheduling ({@link tick}) stays here. Internal.
   * @internal
   */
  sharedState(): ReassemblerSharedState {
    return {
      slots: this.slotCount,
      maxPackets: this.maxPackets,
      state: this.state,
      blockIds: this.blockIds,
      received: this.receivedAll,
      detectTime: this.detectAll,
      partOffsets: this.partOffsetsAll,
      partCount: this.partCount,
      leaderLength: this.leaderLength,
      receivedCount: this.receivedCount,
      resentCount: this.resentCount,
      highestId: this.highestId,
      firstMissing: this.firstMissing,
      lastId: this.lastId,
      lastPacketTime: this.lastPacketTime,
      dataEnd: this.dataEnd,
      sizeMismatch: this.sizeMismatch,
      counters: this.counters,
      scalars: this.scalars,
      buffers: this.buffers,
      layout: Int32Array.of(
        Counter.receivedPackets,
        Counter.transferredBytes,
        Counter.resentPackets,
        Counter.duplicatedPackets,
        Scalar.now,
        Scalar.dataSize,
        Scalar.dataSizeExtended,
        Scalar.packetSizeKnown,
        Scalar.learnedPacketSize,
        SLOT_FILLING,
        PART_OFFSETS,
      ),
    };
  }

  get(name: CounterName): number {
    return this.counters[Counter[name]]!;
  }

  /** Handles one datagram. Never throws for bad input: it counts and drops it. */
  handlePacket(p: Uint8Array, len: number): void {
    const c = this.counters;
    if (len < GVSP_STANDARD_HEADER_SIZE) {
      c[Counter.malformedPackets]!++;
      return;
    }
    // header fields through the codec's readers (codec/packet-fields.ts), the ones decodeGvspPacket uses
    const status = gvspStatusOf(p);
    const ext = gvspIsExtendedId(p);
    const format = gvspFormatOf(p);
    const hdr = ext ? GVSP_EXTENDED_HEADER_SIZE : GVSP_STANDARD_HEADER_SIZE;
    if (len < hdr) {
      c[Counter.malformedPackets]!++;
      return;
    }
    const blockId = gvspBlockIdNumber(p, ext);
    const packetId = gvspPacketIdOf(p, ext);
    const resent = status === GvspStatus.PACKET_RESEND || gvspResendFlag(p, ext);
    if (format < GvspPacketFormat.LEADER || format > GvspPacketFormat.GENDC) {
      c[Counter.malformedPackets]!++;
      return;
    }
    if (!ext && blockId === 0) {
      // block id 0 is never a frame in standard mode: test packets (SCPS fire-test-packet) use it
      c[Counter.ignoredPackets]!++;
      return;
    }
    let slot = this.findSlot(blockId);
    if (slot < 0) {
      if (!this.isNewBlock(blockId, ext)) {
        c[Counter.ignoredPackets]!++;
        c[Counter.latePackets]!++;
        c[Counter.ignoredBytes]! += len;
        return;
      }
      slot = this.startFrame(blockId, ext);
      if (slot < 0) {
        c[Counter.ignoredPackets]!++;
        c[Counter.ignoredBytes]! += len;
        return;
      }
    }
    if (status !== GvspStatus.SUCCESS && status !== GvspStatus.PACKET_RESEND) {
      c[Counter.errorPackets]!++;
      if (isPacketGoneStatus(status) && this.resendOk[slot] === 1) {
        this.resendOk[slot] = 0;
        c[Counter.resendDisabled]!++;
      }
      this.lastPacketTime[slot] = this.now;
      return;
    }
    if (packetId >= this.maxPackets) {
      c[Counter.ignoredPackets]!++;
      c[Counter.ignoredBytes]! += len;
      return;
    }
    const received = this.received[slot]!;
    if (received[packetId] === 1) {
      c[Counter.duplicatedPackets]!++;
      return;
    }
    const buf = this.buffers[slot]!;
    switch (format) {
      case GvspPacketFormat.LEADER: {
        const n = Math.min(len, this.maxLeader);
        this.leaders[slot]!.set(p.subarray(0, n), 0);
        this.leaderLength[slot] = n;
        this.onLeader(slot, p, hdr, len, ext);
        break;
      }
      case GvspPacketFormat.TRAILER: {
        const n = Math.min(len, this.maxLeader);
        this.trailers[slot]!.set(p.subarray(0, n), 0);
        this.trailerLength[slot] = n;
        this.lastId[slot] = packetId;
        break;
      }
      case GvspPacketFormat.PAYLOAD:
      case GvspPacketFormat.H264: {
        if (packetId === 0) {
          // packet 0 is the leader; a data packet cannot have it (its offset would be negative)
          c[Counter.malformedPackets]!++;
          return;
        }
        if (!this.packetSizeKnown) {
          // packet size not configured: learn it from packet 1, full size unless it is the frame's only data packet.
          // Packet 1's data sits at offset 0 whatever the size, so a packet 1 too short or too long to be a packet
          // size (a lone short data packet, or a hostile one) is placed without teaching anything.
          const wire = len + IP_UDP_OVERHEAD;
          if (packetId === 1) {
            if (wire > this.learnedPacketSize && wire >= MIN_PACKET_SIZE && wire <= MAX_PACKET_SIZE) {
              this.learnedPacketSize = wire;
              this.setPacketSize(wire, false);
            }
          } else if (this.learnedPacketSize === 0) {
            c[Counter.ignoredPackets]!++;
            c[Counter.ignoredBytes]! += len;
            return;
          }
        }
        const size = ext ? this.dataSizeExtended : this.dataSize;
        if (format === GvspPacketFormat.H264) {
          // an H.264 data packet starts with its 8-byte timestamp; the NAL bytes follow
          if (len < hdr + PAYLOAD_SUBHEADER_SIZE) {
            c[Counter.malformedPackets]!++;
            return;
          }
          this.copy(slot, buf, p, hdr + 8, len - hdr - 8, (packetId - 1) * (size - 8));
        } else this.copy(slot, buf, p, hdr, len - hdr, (packetId - 1) * size);
        break;
      }
      case GvspPacketFormat.MULTIZONE: {
        if (len < hdr + PAYLOAD_SUBHEADER_SIZE) {
          c[Counter.malformedPackets]!++;
          return;
        }
        const off = gvspAddressOffset(p, hdr);
        this.copy(slot, buf, p, hdr + PAYLOAD_SUBHEADER_SIZE, len - hdr - PAYLOAD_SUBHEADER_SIZE, off);
        break;
      }
      case GvspPacketFormat.MULTIPART: {
        if (len < hdr + PAYLOAD_SUBHEADER_SIZE) {
          c[Counter.malformedPackets]!++;
          return;
        }
        const part = gvspPartIdOf(p, hdr);
        if (this.leaderLength[slot] === 0 || part >= this.partCount[slot]!) {
          // cannot place the data before the leader gave the part layout: leave it missing, a resend brings it
          c[Counter.ignoredPackets]!++;
          c[Counter.ignoredBytes]! += len;
          return;
        }
        const off = gvspAddressOffset(p, hdr);
        this.copy(
          slot,
          buf,
          p,
          hdr + PAYLOAD_SUBHEADER_SIZE,
          len - hdr - PAYLOAD_SUBHEADER_SIZE,
          this.partOffsets[slot]![part]! + off,
        );
        break;
      }
      case GvspPacketFormat.GENDC: {
        if (len < hdr + GENDC_SUBHEADER_SIZE) {
          c[Counter.malformedPackets]!++;
          return;
        }
        const off = gvspGendcDestinationOffset(p, hdr);
        this.copy(slot, buf, p, hdr + GENDC_SUBHEADER_SIZE, len - hdr - GENDC_SUBHEADER_SIZE, off);
        break;
      }
      case GvspPacketFormat.ALL_IN: {
        const n = Math.min(len, this.maxLeader);
        this.leaders[slot]!.set(p.subarray(0, n), 0);
        this.leaderLength[slot] = n;
        this.trailerLength[slot] = 0;
        this.lastId[slot] = packetId;
        const dataStart = gvspAllInDataStart(p, hdr, len);
        if (dataStart < 0) {
          c[Counter.malformedPackets]!++;
          return;
        }
        this.copy(slot, buf, p, dataStart, len - dataStart, 0);
        break;
      }
    }
    received[packetId] = 1;
    c[Counter.receivedPackets]!++;
    c[Counter.transferredBytes]! += len;
    if (resent) {
      c[Counter.resentPackets]!++;
      this.resentCount[slot]!++;
    }
    this.receivedCount[slot]!++;
    this.lastPacketTime[slot] = this.now;
    const highest = this.highestId[slot]!;
    if (packetId > highest) {
      // packets between the previous highest and this one are missing from now on (maybe only reordered)
      const dt = this.detectTime[slot]!;
      for (let k = highest + 1; k < packetId; k++) if (received[k] === 0 && dt[k] === 0) dt[k] = this.now || 1e-9;
      this.highestId[slot] = packetId;
    }
    let fm = this.firstMissing[slot]!;
    while (fm < this.maxPackets && received[fm] === 1) fm++;
    this.firstMissing[slot] = fm;
    const last = this.lastId[slot]!;
    if (last >= 0 && this.receivedCount[slot] === last + 1) {
      this.finish(slot, this.sizeMismatch[slot] === 1 ? FrameStatus.SIZE_MISMATCH : FrameStatus.COMPLETE);
    }
  }

  /** Copies `p[from..from+n)` (the data, which runs to the end of the datagram) to `buf[offset..]`. */
  private copy(slot: number, buf: Uint8Array, p: Uint8Array, from: number, n: number, offset: number): void {
    if (n <= 0 || offset < 0) return;
    let count = n;
    if (offset + count > buf.byteLength) {
      this.sizeMismatch[slot] = 1;
      count = buf.byteLength - offset;
      if (count <= 0) return;
    }
    if (offset >= from && count === n && from + n === p.byteLength && from <= this.scratch.byteLength) {
      // No view object per packet: copy the whole datagram so its data lands at `offset`, and put back the few
      // bytes its header overwrote in front of it (they belong to the previous packet's data).
      const base = offset - from;
      const scratch = this.scratch;
      for (let i = 0; i < from; i++) scratch[i] = buf[base + i]!;
      buf.set(p, base);
      for (let i = 0; i < from; i++) buf[base + i] = scratch[i]!;
    } else {
      // the first data packet of a frame (offset < header) or a truncated copy: one view, once per frame
      buf.set(p.subarray(from, from + count), offset);
    }
    const end = offset + count;
    if (end > this.dataEnd[slot]!) this.dataEnd[slot] = end;
  }

  private onLeader(slot: number, p: Uint8Array, hdr: number, len: number, ext: boolean): void {
    if (len < hdr + 4) return;
    const payloadType = gvspPayloadTypeAt(p, hdr);
    const ds = ext ? this.dataSizeExtended : this.dataSize;
    let bytes = -1;
    if (
      (payloadType === GvspPayloadType.IMAGE || payloadType === GvspPayloadType.EXTENDED_CHUNK) &&
      len >= hdr + IMAGE_LEADER_SIZE
    ) {
      bytes = gvspImageLeaderBytes(p, hdr, pixelFormatBits(gvspU32(p, hdr + ImageLeaderField.pixelFormat)));
    } else if (payloadType === GvspPayloadType.MULTIPART) {
      const fit = Math.floor((len - hdr - MULTIPART_LEADER_FIXED_SIZE) / MULTIPART_PART_INFO_SIZE);
      // extended ids carry the part count in the header's spare byte; standard mode counts what fits
      const count = ext ? gvspLow24(p) & 0xff : fit;
      const n = Math.min(count, fit, 256);
      const offs = this.partOffsets[slot]!;
      let total = 0;
      for (let i = 0; i < n; i++) {
        offs[i] = total;
        total += gvspPartLength(p, hdr, i);
      }
      this.partCount[slot] = n;
      if (total > this.payloadSize) this.sizeMismatch[slot] = 1;
    }
    if (bytes >= 0 && ds > 0) {
      if (bytes > this.payloadSize) this.sizeMismatch[slot] = 1;
      this.estimatedLast[slot] = Math.min(Math.ceil(bytes / ds) + 1, this.maxPackets - 1);
    }
  }

  private findSlot(blockId: number): number {
    const st = this.state;
    const ids = this.blockIds;
    for (let i = 0; i < this.slotCount; i++) if (st[i] === SLOT_FILLING && ids[i] === blockId) return i;
    return -1;
  }

  private isNewBlock(blockId: number, ext: boolean): boolean {
    const last = this.lastBlockId;
    if (last < 0 || ext !== this.lastBlockExtended) return true;
    if (ext) return blockId > last || last - blockId > 1024;
    const diff = (blockId - last) & 0xffff;
    // newer within half the 16-bit space; a jump far backwards means the device restarted its count
    return (diff > 0 && diff < 0x8000) || (diff >= 0x8000 && 0x10000 - diff > 1024);
  }

  private startFrame(blockId: number, ext: boolean): number {
    const c = this.counters;
    const last = this.lastBlockId;
    if (last >= 0 && ext === this.lastBlockExtended) {
      let gap = ext ? blockId - last - 1 : ((blockId - last) & 0xffff) - 1;
      if (!ext && blockId < last && gap > 0) gap--; // 16-bit ids skip 0 when they wrap
      if (gap > 0 && gap < 1024) c[Counter.missingFrames]! += gap;
    }
    this.lastBlockId = blockId;
    this.lastBlockExtended = ext;
    for (let i = 0; i < this.slotCount; i++) if (this.state[i] === SLOT_FILLING) this.newerSeen[i] = 1;
    let slot = -1;
    for (let i = 0; i < this.slotCount; i++) {
      if (this.state[i] === SLOT_FREE) {
        slot = i;
        break;
      }
    }
    if (slot < 0 && this.readyLen > 0) {
      // slow consumer: drop the oldest frame nobody has taken yet, keep the socket flowing
      slot = this.readyQueue[this.readyHead]!;
      this.readyHead = (this.readyHead + 1) % this.slotCount;
      this.readyLen--;
      c[Counter.droppedFrames]!++;
    }
    if (slot < 0) {
      c[Counter.underruns]!++;
      return -1;
    }
    this.state[slot] = SLOT_FILLING;
    this.blockIds[slot] = blockId;
    this.extended[slot] = ext ? 1 : 0;
    this.received[slot]!.fill(0);
    this.detectTime[slot]!.fill(0);
    this.requestTime[slot]!.fill(0);
    this.leaderLength[slot] = 0;
    this.trailerLength[slot] = 0;
    this.partCount[slot] = 0;
    this.dataEnd[slot] = 0;
    this.lastId[slot] = -1;
    this.estimatedLast[slot] = -1;
    this.highestId[slot] = -1;
    this.firstMissing[slot] = 0;
    this.receivedCount[slot] = 0;
    this.resentCount[slot] = 0;
    this.requested[slot] = 0;
    this.resendOk[slot] = this.resend ? 1 : 0;
    this.newerSeen[slot] = 0;
    this.sizeMismatch[slot] = 0;
    this.lastPacketTime[slot] = this.now;
    this.order[slot] = this.orderSeq++;
    return slot;
  }

  private finish(slot: number, status: FrameStatusCode): void {
    const c = this.counters;
    this.status[slot] = status;
    const last =
      this.lastId[slot]! >= 0 ? this.lastId[slot]! : Math.max(this.estimatedLast[slot]!, this.highestId[slot]!);
    const expected = last + 1;
    this.expectedCount[slot] = expected;
    if (status === FrameStatus.COMPLETE) c[Counter.completedFrames]!++;
    else {
      c[Counter.failures]!++;
      c[Counter.missingPackets]! += Math.max(0, expected - this.receivedCount[slot]!);
      if (status === FrameStatus.TIMEOUT) c[Counter.timeouts]!++;
      else if (status === FrameStatus.MISSING_PACKETS) c[Counter.missingPacketFrames]!++;
      else if (status === FrameStatus.SIZE_MISMATCH) c[Counter.sizeMismatchErrors]!++;
      else if (status === FrameStatus.ABORTED) c[Counter.abortedFrames]!++;
    }
    this.state[slot] = SLOT_DONE;
    // frames are handed over in block order even if a later one completed first (it waits for the older ones)
    let any = false;
    for (;;) {
      let oldest = -1;
      for (let i = 0; i < this.slotCount; i++) {
        const st = this.state[i];
        if ((st === SLOT_FILLING || st === SLOT_DONE) && (oldest < 0 || this.order[i]! < this.order[oldest]!))
          oldest = i;
      }
      if (oldest < 0 || this.state[oldest] !== SLOT_DONE) break;
      this.state[oldest] = SLOT_READY;
      this.readyQueue[(this.readyHead + this.readyLen) % this.slotCount] = oldest;
      this.readyLen++;
      any = true;
    }
    if (any) this.hooks.frameReady(slot);
  }

  /** Takes the oldest ready frame (its slot is then held until {@link release}), or -1. */
  take(): number {
    if (this.readyLen === 0) return -1;
    const slot = this.readyQueue[this.readyHead]!;
    this.readyHead = (this.readyHead + 1) % this.slotCount;
    this.readyLen--;
    this.state[slot] = SLOT_HELD;
    return slot;
  }

  /** Frames ended and not yet taken. */
  get readyCount(): number {
    return this.readyLen;
  }

  /** Gives a taken slot back to the pool. */
  release(slot: number): void {
    if (slot < 0 || slot >= this.slotCount || this.state[slot] !== SLOT_HELD) return;
    // a lent buffer (transferred away, now detached) comes back only through restoreBuffer
    if (this.buffers[slot]!.byteLength !== this.payloadSize) return;
    this.state[slot] = SLOT_FREE;
  }

  /**
   * The buffer of a held slot, to be transferred to another thread (`postMessage(..., [buf.buffer])`): the
   * engine's reference becomes detached, and the slot stays held until {@link restoreBuffer} gives the memory
   * back. Only whole `ArrayBuffer`s of exactly the slot's size can be lent.
   */
  lendBuffer(slot: number): Uint8Array {
    const buf = this.buffers[slot];
    if (!buf || this.state[slot] !== SLOT_HELD) throw new RangeError(`slot ${slot} is not held`);
    if (buf.byteOffset !== 0 || buf.buffer.byteLength !== buf.byteLength || buf.buffer instanceof SharedArrayBuffer) {
      throw new RangeError(`slot ${slot} buffer is a view of a larger or shared buffer: it cannot be transferred`);
    }
    return buf;
  }

  /** Puts back the memory of a lent slot (after a transfer back) and releases the slot. */
  restoreBuffer(slot: number, buffer: ArrayBuffer): void {
    if (slot < 0 || slot >= this.slotCount || this.state[slot] !== SLOT_HELD) return;
    if (buffer.byteLength !== this.payloadSize) {
      throw new RangeError(`returned buffer has ${buffer.byteLength} bytes, slot ${slot} needs ${this.payloadSize}`);
    }
    this.buffers[slot] = new Uint8Array(buffer);
    this.state[slot] = SLOT_FREE;
  }

  /** Slots currently held by the consumer. */
  get heldCount(): number {
    let n = 0;
    for (let i = 0; i < this.slotCount; i++) if (this.state[i] === SLOT_HELD) n++;
    return n;
  }

  /** Frames being received. */
  get fillingCount(): number {
    let n = 0;
    for (let i = 0; i < this.slotCount; i++) if (this.state[i] === SLOT_FILLING) n++;
    return n;
  }

  /** Timers: resend requests, frame retention. Call every millisecond or so with the current time in ms. */
  tick(realNow: number): void {
    if (this.lastReal === undefined) this.now = realNow;
    else this.now += Math.min(Math.max(0, realNow - this.lastReal), this.maxTickStep);
    this.lastReal = realNow;
    const now = this.now;
    for (let s = 0; s < this.slotCount; s++) {
      if (this.state[s] !== SLOT_FILLING) continue;
      const idle = now - this.lastPacketTime[s]!;
      if (idle >= this.frameRetentionMs) {
        this.finish(s, this.resendOk[s] === 1 ? FrameStatus.TIMEOUT : FrameStatus.MISSING_PACKETS);
        continue;
      }
      if (this.resendOk[s] === 0) {
        // nothing more will come for a frame that cannot ask for it once a newer frame has started
        if (this.newerSeen[s] === 1 && idle >= this.packetTimeoutMs) this.finish(s, FrameStatus.MISSING_PACKETS);
        continue;
      }
      this.scheduleResends(s, now, idle);
    }
  }

  private scheduleResends(s: number, now: number, idle: number): void {
    const received = this.received[s]!;
    const dt = this.detectTime[s]!;
    const rt = this.requestTime[s]!;
    let end = this.highestId[s]!;
    const last = this.lastId[s]!;
    if (last >= 0) end = last;
    else if (this.newerSeen[s] === 1 || idle >= this.packetTimeoutMs) {
      // the tail (last data packets and the trailer) is missing: nothing later will reveal the gap
      const est = this.estimatedLast[s]!;
      if (est > end) {
        for (let k = end + 1; k <= est; k++) if (dt[k] === 0) dt[k] = now || 1e-9;
        end = est;
      }
    }
    const total = last >= 0 ? last + 1 : Math.max(this.estimatedLast[s]! + 1, this.highestId[s]! + 1);
    const budget = Math.max(1, Math.floor(total * this.packetRequestRatio));
    let runStart = -1;
    for (let k = this.firstMissing[s]!; k <= end + 1; k++) {
      let due = false;
      if (k <= end && received[k] === 0 && dt[k]! > 0) {
        const r = rt[k]!;
        due = r === 0 ? now - dt[k]! >= this.initialPacketTimeoutMs : now - r >= this.packetTimeoutMs;
      }
      if (due) {
        if (runStart < 0) runStart = k;
        continue;
      }
      if (runStart >= 0) {
        if (!this.request(s, runStart, k - 1, now, budget)) return;
        runStart = -1;
      }
    }
  }

  private request(s: number, first: number, last: number, now: number, budget: number): boolean {
    const c = this.counters;
    const rt = this.requestTime[s]!;
    let fresh = 0;
    for (let k = first; k <= last; k++) if (rt[k] === 0) fresh++;
    if (this.requested[s]! + fresh > budget) {
      this.resendOk[s] = 0;
      c[Counter.resendRatioReached]!++;
      return false;
    }
    this.requested[s]! += fresh;
    for (let k = first; k <= last; k++) rt[k] = now;
    c[Counter.resendRequests]!++;
    c[Counter.resendRequestedPackets]! += last - first + 1;
    this.hooks.requestResend(this.blockIds[s]!, first, last, this.extended[s] === 1);
    return true;
  }

  /** Ends every frame in progress as aborted (on close). */
  abortAll(): void {
    for (let s = 0; s < this.slotCount; s++) if (this.state[s] === SLOT_FILLING) this.finish(s, FrameStatus.ABORTED);
  }
}
