import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { NativeBinding } from '@cam/gvsp-native';
import {
  type CallOptions,
  ipv4ToU32,
  ProtocolError,
  sleep,
  throwIfAborted,
  ValueOutOfRangeError,
} from '@cam/net-utils';
import { GvspHeaderFlag, GvspStatus, IP_UDP_OVERHEAD } from '../codec/constants.js';
import type { GvspLeader, GvspTrailer } from '../codec/packet.js';
import { decodePacketResend, type PacketResendCommand } from '../codec/packet-resend.js';
import {
  type GvspBlock,
  imageBlock,
  markResent,
  type PacketisedBlock,
  packetiseBlock,
  type SenderImage,
  statusPacket,
} from '../engine/packetizer.js';
import { loadNativeBinding } from '../transport/native-host.js';

export type { SenderImage } from '../engine/packetizer.js';

/** Simulated network trouble, for tests and the CLI. Shares are 0..1. */
export interface LossOptions {
  /** Share of packets not sent. */
  drop?: number;
  /** Share of packets sent twice. */
  duplicate?: number;
  /** Share of packets held back and sent after the next one. */
  reorder?: number;
  /** PRNG seed, for repeatable runs (default 1). */
  seed?: number;
  /** Apply the loss to retransmissions too (default true). */
  onResend?: boolean;
}

export interface GvspSenderOptions {
  /** Send from this socket (a device's stream socket); otherwise one is bound on `bindAddress:sourcePort`. */
  socket?: dgram.Socket;
  bindAddress?: string;
  sourcePort?: number;
  /** Where packets go (SCDA:SCP); can be set later with {@link GvspSender.setDestination}. */
  destination?: { address: string; port: number };
  /** SCPS packet size including IP and UDP headers (default 1500). */
  packetSize?: number;
  /** 64-bit block ids and 32-bit packet ids. */
  extendedId?: boolean;
  /** Pause between packets, microseconds (SCPD-like). */
  packetDelayUs?: number;
  /** Payload bandwidth cap in bytes per second (overrides packetDelayUs when set). */
  bandwidth?: number;
  /** Blocks kept for PACKETRESEND (default 32). */
  retainBlocks?: number;
  /**
   * Bind a socket on this port that answers PACKETRESEND commands (0 = any free port). Only requests from the
   * stream destination's address are answered: anyone else could aim a 20-byte request at a whole block.
   */
  resendPort?: number;
  /**
   * Share of the stream's own traffic that resends may add (default 0.5): every byte sent in a block earns this
   * many bytes of resend credit, and resends beyond the credit are dropped (the host asks again). Bounds what any
   * requester, even a privileged one, can make the device send.
   */
  resendShare?: number;
  /** Most resend credit saved up, in bytes (default 8 MiB). */
  maxResendCreditBytes?: number;
  /** Most resend ranges waiting to be sent (default 64); more are dropped. */
  maxQueuedResends?: number;
  streamChannel?: number;
  loss?: LossOptions;
  /**
   * Send engine: `'native'` (@cam/gvsp-native's `sendmmsg`, a batch of packets per system call, from this sender's
   * socket), `'js'` (Node's `socket.send` per packet), or `'auto'` (default): native when the addon loads and has
   * `sendBatch`, JS otherwise. Both send the same bytes in the same order; {@link GvspSender.engine} says which
   * runs and why.
   */
  engine?: 'auto' | 'js' | 'native';
}

/** Which send engine a {@link GvspSender} runs, and why. */
export interface SendEngineReport {
  name: 'js' | 'native';
  reason: string;
}

type SendBatch = NonNullable<NativeBinding['sendBatch']>;

export interface GvspSenderStats {
  blocks: number;
  packets: number;
  bytes: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  resendRequests: number;
  resentPackets: number;
  unavailable: number;
  testPackets: number;
  /** Datagrams on the resend socket that were not a PACKETRESEND command (dropped). */
  badCommands: number;
  /** PACKETRESEND on the resend socket from an address other than the stream destination (dropped). */
  refusedRequests: number;
  /** Packets a resend asked for but the resend credit did not cover, or whose range did not fit the queue. */
  throttledPackets: number;
}

/** An image to send (payload type image, chunk data optional). */

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The device side of GVSP: packetises blocks at a packet size and rate, keeps recent blocks to answer
 * PACKETRESEND, sends test packets, and can simulate loss, duplication and reordering.
 */
export class GvspSender implements AsyncDisposable {
  /** The stream socket (replaced by {@link GvspSender.bindSource}). */
  get socket(): dgram.Socket {
    return this.streamSocket;
  }
  private streamSocket: dgram.Socket;
  private readonly ownsSocket: boolean;
  private resendSocket: dgram.Socket | undefined;
  destination: { address: string; port: number } | undefined;
  packetSize: number;
  extendedId: boolean;
  packetDelayUs: number;
  bandwidth: number | undefined;
  loss: LossOptions;
  private readonly retain: number;
  private readonly kept = new Map<bigint, PacketisedBlock>();
  private nextBlock = 1n;
  private held: Uint8Array | undefined;
  private readonly rand: () => number;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly counters: GvspSenderStats = {
    blocks: 0,
    packets: 0,
    bytes: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    resendRequests: 0,
    resentPackets: 0,
    unavailable: 0,
    testPackets: 0,
    badCommands: 0,
    refusedRequests: 0,
    throttledPackets: 0,
  };
  private readonly resendShare: number;
  private readonly maxCredit: number;
  private readonly maxQueued: number;
  /** Bytes of resend the stream has earned (see `resendShare`). */
  private resendCredit = 0;
  /** Resend ranges waiting for the pump: never a whole block in one synchronous go. */
  private readonly resendQueue: { block: PacketisedBlock; next: number; last: number }[] = [];
  private pumping = false;
  private readonly streamChannel: number;
  /** Which send engine runs, and why. */
  readonly engine: SendEngineReport;
  private readonly sendBatch: SendBatch | undefined;
  private destU32: { dest: { address: string; port: number }; address: number | undefined } | undefined;
  private readonly one = new Int32Array(2);

  private constructor(
    socket: dgram.Socket,
    owns: boolean,
    options: GvspSenderOptions,
    engine: SendEngineReport,
    sendBatch: SendBatch | undefined,
  ) {
    this.streamSocket = socket;
    this.engine = engine;
    this.sendBatch = sendBatch;
    this.ownsSocket = owns;
    this.destination = options.destination;
    this.packetSize = options.packetSize ?? 1500;
    this.extendedId = options.extendedId ?? false;
    this.packetDelayUs = options.packetDelayUs ?? 0;
    this.bandwidth = options.bandwidth;
    this.loss = options.loss ?? {};
    this.retain = Math.max(1, options.retainBlocks ?? 32);
    this.rand = mulberry32(options.loss?.seed ?? 1);
    this.streamChannel = options.streamChannel ?? 0;
    this.resendShare = Math.max(0, options.resendShare ?? 0.5);
    this.maxCredit = Math.max(0, options.maxResendCreditBytes ?? 8 * 1024 * 1024);
    this.maxQueued = Math.max(1, options.maxQueuedResends ?? 64);
    socket.on('error', () => {
      // ICMP port unreachable while nobody listens must not crash a device
    });
  }

  static async open(options: GvspSenderOptions = {}): Promise<GvspSender> {
    let socket = options.socket;
    const owns = socket === undefined;
    if (!socket) {
      socket = dgram.createSocket('udp4');
      await bind(socket, options.sourcePort ?? 0, options.bindAddress ?? '0.0.0.0');
      largeSendBuffer(socket);
    }
    const want = options.engine ?? 'auto';
    let engine: SendEngineReport = { name: 'js', reason: "engine: 'js' asked" };
    let sendBatch: SendBatch | undefined;
    if (want !== 'js') {
      const loaded = await loadNativeBinding();
      const why =
        'error' in loaded
          ? `@cam/gvsp-native did not load: ${loaded.error}`
          : typeof loaded.binding.sendBatch !== 'function'
            ? '@cam/gvsp-native has no sendBatch (an older binary; rebuild it)'
            : socketFd(socket) === undefined
              ? "the socket's descriptor is not available (unbound socket or another Node version)"
              : undefined;
      if (why === undefined && !('error' in loaded)) {
        sendBatch = loaded.binding.sendBatch;
        engine = { name: 'native', reason: `@cam/gvsp-native sendmmsg (engine: ${want})` };
      } else if (want === 'native') {
        if (owns) await new Promise<void>((r) => socket.close(() => r()));
        throw new ProtocolError(`send engine 'native' is unavailable: ${why}`);
      } else engine = { name: 'js', reason: `${why ?? ''}; Node's dgram socket.send per packet` };
    }
    const s = new GvspSender(socket, owns, options, engine, sendBatch);
    if (options.resendPort !== undefined) {
      const r = dgram.createSocket('udp4');
      await bind(r, options.resendPort, options.bindAddress ?? '0.0.0.0');
      r.on('message', (msg, rinfo) => {
        if (s.destination === undefined || rinfo.address !== s.destination.address) {
          s.counters.refusedRequests++;
          return;
        }
        let cmd: PacketResendCommand;
        try {
          cmd = decodePacketResend(msg);
        } catch {
          // not a PACKETRESEND: count and drop (a GvcpDevice answers the other GVCP commands)
          s.counters.badCommands++;
          return;
        }
        s.handlePacketResend(cmd);
      });
      r.on('error', () => {});
      s.resendSocket = r;
    }
    return s;
  }

  /** Port of the PACKETRESEND socket, when `resendPort` was given. */
  get resendPort(): number | undefined {
    return this.resendSocket?.address().port;
  }

  /**
   * Moves the stream socket to local `address`, keeping its port when it is free there, so packets leave from that
   * address whatever the route back (a camera streams from its own address on the link its host reached). Only
   * for the sender's own socket; waits for the packets being sent.
   */
  async bindSource(address: string): Promise<void> {
    const old = this.streamSocket;
    if (!this.ownsSocket || old.address().address === address) return;
    await this.chain.catch(() => {});
    const port = old.address().port;
    old.close(); // frees the port at once; sends meanwhile queue on the new socket while it binds
    let next = sendSocket();
    this.streamSocket = next;
    try {
      await bind(next, port, address);
    } catch {
      try {
        next.close();
      } catch {
        // already closed by the failed bind
      }
      next = sendSocket();
      this.streamSocket = next;
      await bind(next, 0, address);
    }
  }

  setDestination(address: string, port: number): void {
    this.destination = { address, port };
  }

  stats(): GvspSenderStats {
    return { ...this.counters };
  }

  /** The block id the next block sent will get (a device writes it into the frame's FrameID chunk). */
  get nextBlockId(): bigint {
    return this.nextBlock;
  }

  /** Next block id: 1..65535 wrapping to 1 with standard ids (0 is not used), 64-bit with extended ids. */
  private takeBlockId(): bigint {
    const id = this.nextBlock;
    this.nextBlock = this.extendedId ? id + 1n : id >= 0xffffn ? 1n : id + 1n;
    return id;
  }

  /** Sends an image block ({@link imageBlock}); resolves with its block id once every packet left. */
  sendImage(image: SenderImage, options: CallOptions = {}): Promise<bigint> {
    return this.sendBlock(imageBlock(image), options);
  }

  /** Sends any block (leader, data, trailer); resolves with its block id. */
  sendBlock(block: GvspBlock, options: CallOptions = {}): Promise<bigint> {
    const blockId = this.takeBlockId();
    const p = packetiseBlock(block, blockId, this.packetSize, this.extendedId);
    this.kept.set(blockId, p);
    while (this.kept.size > this.retain) this.kept.delete(this.kept.keys().next().value as bigint);
    this.counters.blocks++;
    const run = this.chain.then(() => this.transmit(p, options));
    this.chain = run.catch(() => {});
    return run.then(() => blockId);
  }

  private async transmit(p: PacketisedBlock, options: CallOptions): Promise<void> {
    const dest = this.destination;
    if (!dest) throw new ValueOutOfRangeError('destination', 'no stream destination set (SCDA/SCP)');
    const perPacketUs = this.bandwidth ? (this.packetSize / this.bandwidth) * 1e6 : this.packetDelayUs;
    const loss = this.loss;
    if (this.sendBatch && !loss.drop && !loss.duplicate && !loss.reorder && this.nativeAddress(dest) !== undefined) {
      return this.transmitBatches(p, dest, perPacketUs, options);
    }
    const start = performance.now();
    for (let id = 0; id < p.packetCount; id++) {
      if (this.closed) return;
      const packet = p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!);
      this.resendCredit = Math.min(this.maxCredit, this.resendCredit + packet.byteLength * this.resendShare);
      this.emit(packet, dest, false);
      if (perPacketUs > 0) {
        // pace: sleep when ahead of schedule by a millisecond or more, yield otherwise every 64 packets
        const due = start + ((id + 1) * perPacketUs) / 1000;
        const ahead = due - performance.now();
        if (ahead >= 1) await sleep(Math.floor(ahead), options.signal);
        else if ((id & 63) === 63) await new Promise<void>((r) => setImmediate(r));
      } else if ((id & 255) === 255) {
        await new Promise<void>((r) => setImmediate(r));
        throwIfAborted(options.signal);
      }
    }
    this.flushHeld(dest);
  }

  /**
   * The native path of {@link transmit}: the packets due by the pacing schedule (unpaced: up to 256, then a turn of
   * the event loop, as the per-packet path does) in one `sendBatch` call; same bytes, order, counters, resend credit
   * and event-loop yields as the per-packet path.
   */
  private async transmitBatches(
    p: PacketisedBlock,
    dest: { address: string; port: number },
    perPacketUs: number,
    options: CallOptions,
  ): Promise<void> {
    const send = this.sendBatch!;
    const start = performance.now();
    let id = 0;
    let sinceYield = 0;
    while (id < p.packetCount) {
      if (this.closed) return;
      const fd = socketFd(this.socket);
      const address = this.nativeAddress(dest);
      if (fd === undefined || address === undefined) {
        // no descriptor: the socket is being re-bound by bindSource (Node queues these sends until it is bound) or
        // was closed under us (socket.send throws exactly as on the JS path): the rest of the block goes that way
        for (; id < p.packetCount; id++) {
          this.socket.send(p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!), dest.port, dest.address);
          this.counters.packets++;
          this.counters.bytes += p.offsets[id + 1]! - p.offsets[id]!;
        }
        return;
      }
      // unpaced: up to the next multiple of 256 packets, where the JS path yields to the event loop too (a frame
      // loop awaiting each block must never run on microtasks alone)
      let n = Math.min(p.packetCount - id, 256 - (id % 256));
      if (perPacketUs > 0) {
        const due = Math.floor(((performance.now() - start) * 1000) / perPacketUs) + 1;
        n = Math.min(n, Math.max(1, due - id));
      }
      const bytes = p.offsets[id + n]! - p.offsets[id]!;
      this.resendCredit = Math.min(this.maxCredit, this.resendCredit + bytes * this.resendShare);
      this.flushHeld(dest);
      send(fd, p.bytes, p.offsets, id, n, address, dest.port);
      this.counters.packets += n;
      this.counters.bytes += bytes;
      id += n;
      sinceYield += n;
      if (perPacketUs > 0) {
        const ahead = start + (id * perPacketUs) / 1000 - performance.now();
        if (ahead >= 1) {
          await sleep(Math.floor(ahead), options.signal);
          sinceYield = 0;
        } else if (sinceYield >= 64) {
          await new Promise<void>((r) => setImmediate(r));
          sinceYield = 0;
        }
      } else if (id % 256 === 0) {
        await new Promise<void>((r) => setImmediate(r));
        throwIfAborted(options.signal);
        sinceYield = 0;
      }
    }
    this.flushHeld(dest);
  }

  /** The destination as a 32-bit number for the native engine; undefined for a host name (JS resolves those). */
  private nativeAddress(dest: { address: string; port: number }): number | undefined {
    const c = this.destU32;
    if (c !== undefined && c.dest === dest) return c.address;
    const address = isIPv4(dest.address) ? ipv4ToU32(dest.address) : undefined;
    this.destU32 = { dest, address };
    return address;
  }

  /** Sends one datagram: natively when that engine runs (so every packet keeps its order), else socket.send. */
  private sendOne(bytes: Uint8Array, dest: { address: string; port: number }): void {
    if (this.sendBatch) {
      const address = this.nativeAddress(dest);
      if (address !== undefined) {
        const fd = socketFd(this.socket);
        if (fd === undefined || this.closed) return;
        this.one[1] = bytes.byteLength;
        this.sendBatch(fd, bytes, this.one, 0, 1, address, dest.port);
        return;
      }
    }
    this.socket.send(bytes, dest.port, dest.address);
  }

  private emit(bytes: Uint8Array, dest: { address: string; port: number }, resend: boolean): void {
    const loss = this.loss;
    const apply = !resend || (loss.onResend ?? true);
    if (apply && loss.drop && this.rand() < loss.drop) {
      this.counters.dropped++;
      return;
    }
    if (apply && loss.reorder && this.held === undefined && this.rand() < loss.reorder) {
      this.held = bytes;
      this.counters.reordered++;
      return;
    }
    this.raw(bytes, dest);
    if (apply && loss.duplicate && this.rand() < loss.duplicate) {
      this.counters.duplicated++;
      this.raw(bytes, dest);
    }
    this.flushHeld(dest);
  }

  private flushHeld(dest: { address: string; port: number }): void {
    const h = this.held;
    if (h) {
      this.held = undefined;
      this.raw(h, dest);
    }
  }

  private raw(bytes: Uint8Array, dest: { address: string; port: number }): void {
    this.counters.packets++;
    this.counters.bytes += bytes.byteLength;
    this.sendOne(bytes, dest);
  }

  /** Answers a PACKETRESEND: resends kept packets, PACKET_UNAVAILABLE for blocks no longer kept. */
  handlePacketResend(
    cmd: Pick<PacketResendCommand, 'extendedId' | 'blockId' | 'firstPacketId' | 'lastPacketId'>,
  ): void {
    const dest = this.destination;
    if (!dest || this.closed) return;
    this.counters.resendRequests++;
    const block = this.kept.get(cmd.blockId);
    if (!block || block.extendedId !== cmd.extendedId) {
      this.counters.unavailable++;
      this.raw(statusPacket(GvspStatus.PACKET_UNAVAILABLE, cmd.blockId, cmd.firstPacketId, cmd.extendedId), dest);
      return;
    }
    const last = Math.min(cmd.lastPacketId, block.packetCount - 1);
    if (cmd.firstPacketId > last) {
      this.counters.unavailable++;
      const flags = cmd.extendedId ? GvspHeaderFlag.RESEND_RANGE_ERROR : 0;
      this.raw(
        statusPacket(GvspStatus.PACKET_UNAVAILABLE, cmd.blockId, cmd.firstPacketId, cmd.extendedId, flags),
        dest,
      );
      return;
    }
    if (this.resendQueue.length >= this.maxQueued) {
      this.counters.throttledPackets += last - cmd.firstPacketId + 1;
      return;
    }
    this.resendQueue.push({ block, next: cmd.firstPacketId, last });
    if (!this.pumping) {
      this.pumping = true;
      setImmediate(this.pumpResends);
    }
  }

  /** Sends queued resends a batch per event-loop turn, as far as the resend credit goes. */
  private readonly pumpResends = (): void => {
    const dest = this.destination;
    let budget = 64;
    while (budget > 0 && this.resendQueue.length > 0 && dest && !this.closed) {
      const r = this.resendQueue[0]!;
      const bytes = r.block.bytes.subarray(r.block.offsets[r.next]!, r.block.offsets[r.next + 1]!);
      if (bytes.byteLength > this.resendCredit) {
        // out of credit: the rest of this range is dropped; the host asks again if it still wants it
        this.counters.throttledPackets += r.last - r.next + 1;
        this.resendQueue.shift();
        continue;
      }
      this.resendCredit -= bytes.byteLength;
      markResent(r.block, r.next);
      this.counters.resentPackets++;
      this.emit(bytes, dest, true);
      budget--;
      if (++r.next > r.last) this.resendQueue.shift();
    }
    if (dest) this.flushHeld(dest);
    if (this.resendQueue.length > 0 && dest && !this.closed) setImmediate(this.pumpResends);
    else {
      if (!dest || this.closed) this.resendQueue.length = 0;
      this.pumping = false;
    }
  };

  /**
   * Sends a test packet of the current SCPS size (GVSP header, block id 0, then a byte pattern), as a device
   * does when the host sets the fire-test-packet bit of SCPS.
   */
  sendTestPacket(packetSize = this.packetSize): void {
    const dest = this.destination;
    if (!dest) return;
    const n = packetSize - IP_UDP_OVERHEAD;
    if (n < 8) return;
    const b = new Uint8Array(n);
    b[4] = 3; // generic payload format, block 0, packet 0
    let lfsr = 0xace1;
    for (let i = 8; i < n; i++) {
      lfsr = ((lfsr >>> 1) ^ (-(lfsr & 1) & 0xb400)) & 0xffff;
      b[i] = lfsr & 0xff;
    }
    this.counters.testPackets++;
    this.sendOne(b, dest);
  }

  /** Stops sending; closes the sockets it opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain.catch(() => {});
    const closes: Promise<void>[] = [];
    if (this.ownsSocket) closes.push(new Promise((r) => this.streamSocket.close(() => r())));
    if (this.resendSocket) {
      const rs = this.resendSocket;
      closes.push(new Promise((r) => rs.close(() => r())));
    }
    await Promise.all(closes);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function largeSendBuffer(socket: dgram.Socket): void {
  try {
    socket.setSendBufferSize(8 * 1024 * 1024);
  } catch {
    // a smaller send buffer only means more EAGAIN retries inside libuv
  }
}

/** A fresh stream socket for {@link GvspSender.bindSource}: large send buffer once bound, errors ignored. */
function sendSocket(): dgram.Socket {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => {});
  socket.once('listening', () => largeSendBuffer(socket));
  return socket;
}

let stateKey: symbol | undefined;

/**
 * The descriptor of a bound dgram socket, for the native engine (it sends from the very socket this sender was
 * given or opened); undefined when unbound, closed, or when this Node keeps it elsewhere. Reads Node's internal
 * state (`handle.fd`) without the deprecated `_handle` getter.
 */
function socketFd(socket: dgram.Socket): number | undefined {
  stateKey ??= Object.getOwnPropertySymbols(socket).find((k) => k.description === 'state symbol');
  if (stateKey === undefined) return undefined;
  const state = (socket as unknown as Record<symbol, { handle?: { fd?: unknown } | null } | undefined>)[stateKey];
  const fd = state?.handle?.fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

export type { GvspLeader, GvspTrailer };
