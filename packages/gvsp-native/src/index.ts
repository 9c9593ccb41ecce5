/**
 * @cam/gvsp-native: the native receive engine behind `openStream(..., { engine: 'native' })` of @cam/gvsp.
 *
 * Importing this module loads the addon (a prebuilt binary from `prebuilds/`, else `build/Release` built at install)
 * and throws when there is none for this platform; @cam/gvsp catches that and runs its JavaScript engine. Use it
 * through @cam/gvsp: this API plugs into a `GvspReassembler` and is internal to the two packages.
 * @packageDocumentation
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Typed arrays of a @cam/gvsp reassembler the engine reads and writes in place (`GvspReassembler.sharedState()`).
 * Lengths are checked when the engine is created; `layout` gives the indices the engine uses (see
 * `ReassemblerSharedState` in @cam/gvsp).
 */
export interface NativeSharedState {
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

/** An engine instance (opaque). */
export interface NativeEngine {
  readonly __brand: 'NativeEngine';
}

/** How datagrams are captured: `0` recvmmsg, `1` packet ring (fails without CAP_NET_RAW), `2` ring when permitted. */
export type NativeCaptureCode = 0 | 1 | 2;

export interface NativeReceiverInfo {
  port: number;
  /** SO_RCVBUF the OS granted (Linux reports twice the usable size). */
  granted: number;
  capture: 'recvmmsg' | 'packet-ring';
  /** Why the packet ring is not used (empty when it is, or was not asked for). */
  reason: string;
}

export interface NativeEngineStats {
  /** Calls into JS once per wake-up (each after up to 1024 datagrams). */
  batches: number;
  /** recvmmsg calls (the ring needs none). */
  syscalls: number;
  datagrams: number;
  /** Datagrams placed without JS. */
  nativePackets: number;
  /** Datagrams handed to JS (leaders, trailers, completing packets, new blocks, anything odd). */
  slowPackets: number;
  /** Packets the kernel dropped because the ring was full (PACKET_STATISTICS). */
  ringDrops: number;
  /** Ring packets that were not a whole IPv4/UDP datagram to our port. */
  ringSkipped: number;
  /** Longest time from a packet's kernel timestamp to its handling, microseconds (ring only). */
  ringMaxDelayUs: number;
  /** Datagrams from an address (or port) other than the one given to `setSource`, dropped before the engine. */
  foreignPackets: number;
}

export interface NativeBinding {
  /**
   * An engine over `shared`. Datagrams the engine does not place itself are copied to `slowBuffer` (at least
   * 65536 bytes) and `onSlow(length)` is called, in arrival order; when it returns true (frames are waiting for
   * the consumer) the wake-up ends after the current batch or ring block, so the consumer runs before more frames
   * complete. `onBatch(sourceAddress)` is called after each wake-up with the IPv4 source (as a 32-bit number) of
   * the last datagram.
   */
  createEngine(
    shared: NativeSharedState,
    onSlow: (length: number) => boolean,
    onBatch: (sourceAddress: number) => void,
    slowBuffer: Uint8Array,
  ): NativeEngine;
  /** A slot's memory was replaced. */
  setBuffer(engine: NativeEngine, slot: number, buffer: Uint8Array): void;
  /** Handles datagrams from memory (`bytes[ends[i-1]..ends[i])`) exactly as received ones; returns how many were placed natively. */
  processDatagrams(engine: NativeEngine, bytes: Uint8Array, ends: Int32Array): number;
  /** Binds UDP `address:port` and starts receiving on Node's event loop. */
  openReceiver(
    engine: NativeEngine,
    address: string,
    port: number,
    receiveBufferSize: number,
    capture: NativeCaptureCode,
  ): NativeReceiverInfo;
  closeReceiver(engine: NativeEngine): void;
  /** While on, every datagram goes to `onSlow` (test packets are recognised there by their length). */
  setProbe(engine: NativeEngine, on: boolean): void;
  /**
   * Accept datagrams only from this IPv4 source (a 32-bit number, as `onBatch` reports it); 0 = from any. With
   * `port` (not 0), only from that UDP source port too (the camera's SCSP).
   */
  setSource(engine: NativeEngine, address: number, port?: number): void;
  /** True when `setSource` takes the port (absent in binaries built before it did). */
  readonly sourcePorts?: boolean;
  stats(engine: NativeEngine): NativeEngineStats;
  /**
   * Sends packets `first..first+count-1` of a packetised block (packet i is `bytes[offsets[i]..offsets[i+1])`) from
   * the UDP socket `fd` to IPv4 `address` (a 32-bit number) and `port`, with `sendmmsg` in batches. Offsets and
   * lengths are checked first (throws a TypeError). Returns how many packets left: fewer than `count` when the send
   * buffer stayed full for 50 ms or the socket failed. Absent from binaries built before it (check before use).
   */
  sendBatch?(
    fd: number,
    bytes: Uint8Array,
    offsets: Int32Array,
    first: number,
    count: number,
    address: number,
    port: number,
  ): number;
}

/** Size of the buffer `createEngine` needs for datagrams it hands to JS. */
export const SLOW_BUFFER_SIZE = 65536;

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const gypBuild = require('node-gyp-build') as { path(dir: string): string };

/**
 * Where the addon is loaded from: `CAM_GVSP_NATIVE_BINARY` when set (e.g. the AddressSanitizer build of
 * scripts/fuzz-asan.sh), else a prebuilt binary for this platform, else the local build (`build/Release`).
 */
export const bindingPath: string = process.env.CAM_GVSP_NATIVE_BINARY || gypBuild.path(root);

/** The loaded addon. */
export const binding = require(bindingPath) as NativeBinding;
