/**
 * The one dgram receive loop, used by the receiver in this thread ({@link openLocalHost}) and by the receive
 * worker (receiver-worker.ts): binding the stream socket, the per-datagram path into the reassembly engine, the
 * timer that keeps resends and retention going when the stream is quiet, and PACKETRESEND to the camera.
 */
import dgram from 'node:dgram';
import { encodePacketResend } from '../codec/packet-resend.js';
import { Counter, type GvspReassembler } from '../engine/reassembler.js';
import type { GvspReceiverOptions, ReceiveBufferReport } from './engine-host.js';

const DEFAULT_RCVBUF = 32 * 1024 * 1024;

/** Binds a UDP socket with a large receive buffer; reports what was granted. */
export async function bindStreamSocket(
  options: Pick<GvspReceiverOptions, 'port' | 'address' | 'receiveBufferSize'>,
): Promise<{ socket: dgram.Socket; receiveBuffer: ReceiveBufferReport }> {
  const requested = options.receiveBufferSize ?? DEFAULT_RCVBUF;
  const socket = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.bind(options.port ?? 0, options.address ?? '0.0.0.0', () => {
      socket.off('error', onError);
      resolve();
    });
  });
  try {
    socket.setRecvBufferSize(requested);
  } catch {
    // the OS refused the size outright; what it kept is reported below
  }
  // Linux doubles the value it stores (bookkeeping overhead) and caps the request at net.core.rmem_max
  const granted = socket.getRecvBufferSize();
  const receiveBuffer: ReceiveBufferReport = { requested, granted };
  if (granted < requested) {
    receiveBuffer.advice =
      `the OS granted a ${granted}-byte receive buffer for ${requested} requested; raise the limit with ` +
      `"sysctl -w net.core.rmem_max=${requested}" (Linux) so bursts of a whole frame fit`;
  }
  return { socket, receiveBuffer };
}

/**
 * Sends PACKETRESEND from the stream socket to the camera's GVCP port without asking for an ack, as Aravis does:
 * one small datagram per resend request, never per packet. Shared by the main-thread and worker receive loops.
 */
export class ResendRequester {
  /** Where requests go; learnt from the first stream packet when not given. */
  device: { address: string; port: number } | undefined;
  private reqId = 0;

  constructor(
    private readonly socket: dgram.Socket,
    device: { address: string; port?: number } | undefined,
    private readonly streamChannel: number,
  ) {
    this.device = device ? { address: device.address, port: device.port ?? 3956 } : undefined;
  }

  /** Takes the sender of a stream packet as the camera when none is known yet. */
  learn(address: string): void {
    if (this.device === undefined) this.device = { address, port: 3956 };
  }

  request(blockId: number | bigint, first: number, last: number, extendedId: boolean): void {
    const device = this.device;
    if (!device) return;
    this.reqId = this.reqId >= 0xffff ? 1 : this.reqId + 1;
    const cmd = encodePacketResend({
      reqId: this.reqId,
      ackRequired: false,
      extendedId,
      streamChannel: this.streamChannel,
      blockId: BigInt(blockId),
      firstPacketId: first,
      lastPacketId: last,
    });
    this.socket.send(cmd, device.port, device.address);
  }
}

/**
 * True when a stream datagram from `address`:`port` may reach the engine: it comes from the expected source, or no
 * source is expected (not yet learnt, or `sourceAddress: 'any'`), and from the expected source port when one is
 * known (`sourcePort`, the camera's SCSP). The one source check of every receive host.
 */
export function acceptsStreamSource(
  expected: string | undefined,
  address: string,
  expectedPort?: number,
  port?: number,
): boolean {
  return (expected === undefined || expected === address) && (!expectedPort || expectedPort === port);
}

/** The stream source a receiver accepts (see `GvspReceiverOptions.sourceAddress`). */
export class StreamSource {
  /** The address accepted; undefined: any (not learnt yet, or `'any'`). */
  expected: string | undefined;
  /** Set explicitly (an address or `'any'`): neither the device nor learning changes it. */
  private readonly fixed: boolean;
  /** The only source UDP port accepted (the camera's SCSP); undefined or 0: any. */
  readonly port: number | undefined;

  constructor(sourceAddress: string | undefined, device: { address: string } | undefined, sourcePort?: number) {
    this.fixed = sourceAddress !== undefined;
    this.port = sourcePort || undefined;
    this.expected = sourceAddress === 'any' ? undefined : (sourceAddress ?? device?.address);
  }

  /** The device's address became known (`setDevice`): it is the source from now on, unless one was given. */
  setDevice(address: string): void {
    if (!this.fixed) this.expected = address;
  }

  /** The first well-formed packet's sender becomes the source when none is known (and none was given). */
  learn(address: string): void {
    if (!this.fixed && this.expected === undefined) this.expected = address;
  }
}

/** Hooks of {@link startReceiveLoop}. */
export interface ReceiveLoopOptions {
  /** Timer period for resends and retention, ms (default 1). */
  tickMs?: number | undefined;
  /** Sees the length of every datagram before the engine does (test-packet probes). */
  onDatagram?: ((length: number) => void) | undefined;
}

/**
 * Feeds every datagram of `socket` to `engine` and keeps its clock going; the caller owns the socket (binds and
 * closes it). Returns `stop` for the timer.
 */
export function startReceiveLoop(
  socket: dgram.Socket,
  engine: GvspReassembler,
  resend: ResendRequester,
  source: StreamSource,
  options: ReceiveLoopOptions = {},
): { stop(): void } {
  const counters = engine.counters;
  const onDatagram = options.onDatagram;
  engine.tick(Date.now());
  const tickMs = Math.max(1, options.tickMs ?? 1);
  // Date.now() (a small integer) rather than performance.now(): the check runs per packet and must not allocate
  let lastTick = Date.now();
  const tick = (): void => {
    lastTick = Date.now();
    engine.tick(lastTick);
  };
  socket.on('message', (msg, rinfo) => {
    if (!acceptsStreamSource(source.expected, rinfo.address, source.port, rinfo.port)) {
      counters[Counter.foreignSourcePackets]!++;
      return;
    }
    resend.learn(rinfo.address);
    onDatagram?.(msg.length);
    // while packets flow, the timers run from here (one clock read per packet) instead of 1000 wakeups a second
    if (Date.now() - lastTick >= tickMs) tick();
    const malformed = counters[Counter.malformedPackets]!;
    try {
      engine.handlePacket(msg, msg.length);
    } catch {
      // the engine counts and drops bad datagrams itself; this only keeps a missed case from ending the process
      counters[Counter.malformedPackets]!++;
    }
    if (source.expected === undefined && counters[Counter.malformedPackets] === malformed) source.learn(rinfo.address);
  });
  socket.on('error', () => {
    // ICMP errors (e.g. port unreachable after a resend) must not end the stream
  });
  // when the stream goes quiet (tail loss, end of stream) a timer keeps resends and retention going
  const timer = setInterval(
    () => {
      if (Date.now() - lastTick >= tickMs) tick();
    },
    Math.max(tickMs, 4),
  );
  // the bound socket keeps the process (or worker) alive, not this timer
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}
