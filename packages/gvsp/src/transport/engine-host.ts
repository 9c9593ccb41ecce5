/**
 * What every receive-engine host shares: the receiver's options, the {@link EngineHost} contract that the
 * receiver drives (the engine in this thread, in a worker, or native), and the frame hand-over of an engine in
 * this thread. Types and one small function; the hosts import this, never each other or the receiver.
 */
import { buildFrame, type GvspFrame } from '../engine/frame.js';
import type { GvspReassembler, ReassemblerOptions } from '../engine/reassembler.js';

/** Receive-buffer outcome: what was asked, what the OS granted, what to do if it is small. */
export interface ReceiveBufferReport {
  requested: number;
  granted: number;
  /** Present when the grant is below the request. */
  advice?: string;
}

export interface GvspReceiverOptions extends Omit<ReassemblerOptions, 'allocate' | 'allocateLeader'> {
  /** UDP port to bind (0 = any free one). */
  port?: number;
  /** Local address to bind (default 0.0.0.0). */
  address?: string;
  /** Where PACKETRESEND goes: the device's GVCP address (default: the source address of the first packet, port 3956). */
  device?: { address: string; port?: number };
  /**
   * The only address stream packets are accepted from; packets from any other are dropped before the engine and
   * counted (`foreignSourcePackets`), so a flood from elsewhere cannot occupy frame slots or displace a real frame.
   * Default: `device.address` (or the address given to `setDevice`); without either, the sender of the first
   * well-formed stream packet is learnt (an attacker who sends first would be learnt: pass `device`, as
   * `openStream` does). `'any'` accepts every sender (a camera whose stream leaves from another address than its
   * GVCP).
   */
  sourceAddress?: string;
  /**
   * The only UDP source port stream packets are accepted from (the camera's SCSP, "stream channel source port";
   * `openStream` reads it). Packets from the right address but another port are dropped and counted in
   * `foreignSourcePackets`, so another process on the camera's own host cannot feed the engine. Default: any port.
   */
  sourcePort?: number;
  /** Stream channel index written into PACKETRESEND (default 0). */
  streamChannel?: number;
  /** Socket receive buffer to request in bytes (default 32 MiB). */
  receiveBufferSize?: number;
  /** Deliver frames as copies and keep no buffer from the pool (default false: views; call `frame.release()`). */
  copyFrames?: boolean;
  /** Deliver frames that ended incomplete (default true; they carry a non-`complete` status). */
  deliverIncomplete?: boolean;
  /**
   * Byte order the camera uses for 10..16-bit unpacked pixels. PFNC says little-endian; some cameras send
   * big-endian, set `'big'` and frames are swapped to little-endian on delivery (seed 001's `byteswap`).
   */
  pixelByteOrder?: 'little' | 'big';
  /** Timer period for resends and retention, ms (default 1). */
  tickMs?: number;
  /** Run the receive loop in a worker thread; frames come back through a SharedArrayBuffer pool, no copy. */
  worker?: boolean;
  /**
   * Receive engine: `'native'` (@cam/gvsp-native: datagrams in batches, payloads placed by native code, resend
   * scheduling here), `'js'` (Node's dgram), or `'auto'` (default): native when @cam/gvsp-native loads and
   * `worker` is not set, else js. {@link GvspReceiver.engine} says which runs and why.
   */
  engine?: 'auto' | 'js' | 'native';
  /**
   * How the native engine captures (default `'auto'`): `'packet-ring'` (an AF_PACKET TPACKET_V3 ring with a BPF
   * filter for the port; needs CAP_NET_RAW), `'recvmmsg'`, or `'auto'`: the ring when permitted, else recvmmsg.
   */
  capture?: 'auto' | 'recvmmsg' | 'packet-ring';
  signal?: AbortSignal;
}

/** Which receive engine runs, and why. */
export interface ReceiveEngineReport {
  name: 'js' | 'native';
  /** How datagrams are read: Node's dgram (main thread or worker), recvmmsg batches or the packet ring. */
  capture: 'dgram' | 'dgram-worker' | 'recvmmsg' | 'packet-ring';
  reason: string;
}

/** Frame source behind a receiver: the engine in this thread or in a worker. */
export interface EngineHost {
  readonly port: number;
  readonly engine: ReceiveEngineReport;
  readonly receiveBuffer: ReceiveBufferReport;
  counters(): Float64Array;
  /** Takes the next ended frame, or undefined. */
  take(): GvspFrame | undefined;
  readyCount(): number;
  heldCount(): number;
  onReady(cb: () => void): void;
  setDevice(address: string, port: number): void;
  setPacketSize(size: number): void;
  /** Calls `cb` with the length of every datagram until it returns true or `timeoutMs` passes; resolves whether it did. */
  probe(test: (length: number) => boolean, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The frame hand-over of an engine in this thread: takes ended slots and builds frames (views or copies). */
export function frameTaker(
  engine: GvspReassembler,
  options: Pick<GvspReceiverOptions, 'copyFrames' | 'deliverIncomplete' | 'pixelByteOrder'>,
): () => GvspFrame | undefined {
  const copy = options.copyFrames ?? false;
  const deliverIncomplete = options.deliverIncomplete ?? true;
  const swap16 = options.pixelByteOrder === 'big';
  return () => {
    for (;;) {
      const slot = engine.take();
      if (slot < 0) return undefined;
      if (!deliverIncomplete && engine.status[slot] !== 0) {
        engine.release(slot);
        continue;
      }
      return buildFrame(
        {
          status: engine.status[slot]!,
          blockId: engine.blockIds[slot]!,
          dataEnd: engine.dataEnd[slot]!,
          expected: engine.expectedCount[slot]!,
          received: engine.receivedCount[slot]!,
          resent: engine.resentCount[slot]!,
          leader: engine.leaders[slot]!.subarray(0, engine.leaderLength[slot]!),
          trailer: engine.trailers[slot]!.subarray(0, engine.trailerLength[slot]!),
        },
        engine.buffers[slot]!,
        { copy, swap16, release: () => engine.release(slot) },
      );
    }
  };
}
