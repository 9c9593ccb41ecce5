import { EventEmitter } from 'node:events';
import {
  AbortError,
  abortReason,
  type CallOptions,
  interfaceFor,
  isIpv4,
  PendingRequests,
  ProtocolError,
  ValueOutOfRangeError,
} from '@cam/net-utils';
import {
  ACK_CODE_FOR,
  ackCodeOf,
  BootstrapRegister,
  CcpBits,
  DEVICE_INFO_SIZE,
  type DeviceInfo,
  decodeAck,
  decodeDeviceInfo,
  encodeCommandWithId,
  GVCP_PORT,
  type GvcpAck,
  GvcpCapability,
  type GvcpCommand,
  GvcpStatus,
  MEMORY_CHUNK_SIZE,
  READREG_MAX_COUNT,
  type RegisterWrite,
  WRITEREG_MAX_COUNT,
} from '../codec/index.js';
import { ClientClosedError, ControlLostError, GvcpStatusError } from './errors.js';
import { bindUdp, closeUdp, type RemoteInfo, type Socket } from './udp.js';

/** Options of every GvcpClient call. */
export interface GvcpCallOptions extends CallOptions {
  /** Retransmissions after the first try (default: the client's, 3). */
  retries?: number;
  /** Time to wait for an acknowledge per try, in ms (default: the client's, 500). */
  tryTimeoutMs?: number;
}

/** Register and memory access to a device (what GenICam, GVSP and SC_GVMP build on). */
export interface RegisterAccess {
  readRegister(address: number, options?: GvcpCallOptions): Promise<number>;
  writeRegister(address: number, value: number, options?: GvcpCallOptions): Promise<void>;
  readMemory(address: number, length: number, options?: GvcpCallOptions): Promise<Uint8Array>;
  writeMemory(address: number, data: Uint8Array, options?: GvcpCallOptions): Promise<void>;
}

/** Settings of a {@link GvcpClient}. */
export interface GvcpClientOptions {
  /** Device GVCP port (default 3956). */
  port?: number;
  /** Local address to bind (default: the interface on the device's subnet, else 0.0.0.0). */
  localAddress?: string;
  /** Local port (default 0, any). */
  localPort?: number;
  /** Retransmissions after the first try (default 3). */
  retries?: number;
  /** Per-try acknowledge timeout in ms (default 500). */
  tryTimeoutMs?: number;
  /** Most PENDING_ACKs accepted for one command before giving up (default 64). */
  maxPendingAcks?: number;
  /**
   * Longest time PENDING_ACKs may stretch one command, ms from its first send (default 10 000): a device that keeps
   * answering "pending" (each may ask for up to 65 s) cannot hold a call for longer.
   */
  maxPendingMs?: number;
  /**
   * The device's GVCP capability register, when known; otherwise it is read on first need (it decides whether
   * several registers go in one READREG / WRITEREG).
   */
  capabilities?: number;
  /** req_id of the first command (default 1); ids then count up and wrap from 0xFFFF to 1. */
  firstReqId?: number;
}

/** How to take control of a device. */
export interface ControlOptions extends GvcpCallOptions {
  /**
   * `exclusive`: nobody else may even read; `control`: others may monitor (read); `switchover`: take control from a
   * primary application that allowed switchover, presenting `switchoverKey`.
   */
  mode?: 'exclusive' | 'control' | 'switchover';
  /** The key to present (`switchover`), or, with `allowSwitchover`, the key others must present. */
  switchoverKey?: number;
  /** Let another application take control with the key (sets CCP bit 0x4 and the Control Switchover Key). */
  allowSwitchover?: boolean;
  /** Heartbeat period in ms; default: a third of the device's heartbeat timeout (0x0938), within 100..1000 ms. */
  heartbeatMs?: number;
}

/** Counters of a client (datagrams it dropped say so here). */
export interface GvcpClientStats {
  commands: number;
  retransmissions: number;
  pendingAcks: number;
  timeouts: number;
  /** Datagrams that did not decode as a GVCP ack. */
  malformed: number;
  /** Acks whose id did not match the command in flight (late answers to earlier tries). */
  staleAcks: number;
  /** Datagrams from an address other than the device's. */
  foreign: number;
  heartbeats: number;
}

/** Events of a {@link GvcpClient}. */
export interface GvcpClientEvents {
  'control-lost': [error: ControlLostError];
}

type CommandInput = GvcpCommand extends infer C ? (C extends GvcpCommand ? Omit<C, 'reqId'> : never) : never;

/** What the client keeps with the command waiting for its ack. */
interface Waiting {
  /** When the command was first sent (PENDING_ACKs stretch it up to `maxPendingMs` from here). */
  readonly startedAt: number;
  readonly tryTimeoutMs: number;
  /** PENDING_ACKs received in the current try. */
  pendings: number;
}

const DEFAULT_RETRIES = 3;
const DEFAULT_TRY_TIMEOUT_MS = 500;

/**
 * GVCP control channel to one device over UDP. One command is outstanding at a time (the spec's flow control);
 * calls queue in order. Each command is retransmitted with the same req_id when no ack arrives in the per-try
 * timeout; PENDING_ACK extends the wait; a non-success status rejects with {@link GvcpStatusError}.
 *
 * Above 500 lines on purpose: besides the one request channel (the wait loop itself is net-utils'
 * PendingRequests), it is the register API a GenICam Port and the CLI use (registers, memory in spec-sized chunks,
 * concatenation when the device supports it) and the control privilege with its heartbeat, which must share the
 * channel's queue and its notion of the last command sent.
 */
export class GvcpClient implements RegisterAccess, AsyncDisposable {
  readonly address: string;
  readonly port: number;
  readonly stats: GvcpClientStats = {
    commands: 0,
    retransmissions: 0,
    pendingAcks: 0,
    timeouts: 0,
    malformed: 0,
    staleAcks: 0,
    foreign: 0,
    heartbeats: 0,
  };
  private readonly socket: Socket;
  private readonly retries: number;
  private readonly tryTimeoutMs: number;
  readonly maxPendingAcks: number;
  readonly maxPendingMs: number;
  private readonly events = new EventEmitter<GvcpClientEvents>();
  private reqId = 0;
  /** True while a command is in flight; later calls wait in `turns` (FIFO). */
  private busy = false;
  private readonly turns: { resolve(): void }[] = [];
  /**
   * One reusable timer for the default per-try timeout, re-armed with `refresh()` (cheaper than a new timer per
   * command); other durations (PENDING_ACK, per-call overrides) get their own timer.
   */
  private closed = false;
  private capabilityValue: number | undefined;
  private controlMode: number | undefined;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** The command waiting for its ack, by req_id (net-utils' one UDP request/resend loop; one at a time here). */
  private readonly pending = new PendingRequests<number, Waiting, GvcpAck>();
  private heartbeatPeriod = 0;
  private lost: ControlLostError | undefined;
  private lastSentAt = 0;

  private constructor(socket: Socket, address: string, options: GvcpClientOptions) {
    this.socket = socket;
    this.address = address;
    this.port = options.port ?? GVCP_PORT;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.tryTimeoutMs = options.tryTimeoutMs ?? DEFAULT_TRY_TIMEOUT_MS;
    this.maxPendingAcks = options.maxPendingAcks ?? 64;
    this.maxPendingMs = options.maxPendingMs ?? 10_000;
    this.capabilityValue = options.capabilities;
    this.reqId = (options.firstReqId ?? 1) - 1;
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    // Send errors surface through the send callback; a stray 'error' must not crash the process.
    socket.on('error', () => {});
  }

  /** Opens a control channel to the device at `address` (binds a local UDP port; sends nothing). */
  static async connect(address: string, options: GvcpClientOptions = {}): Promise<GvcpClient> {
    if (!isIpv4(address)) throw new ValueOutOfRangeError('address', `"${address}" is not an IPv4 address`);
    checkCount(options.retries, 0, 100, 'retries');
    checkCount(options.tryTimeoutMs, 1, 600_000, 'tryTimeoutMs');
    checkCount(options.firstReqId, 1, 0xffff, 'firstReqId');
    const localAddress = options.localAddress ?? interfaceFor(address)?.address ?? '0.0.0.0';
    const socket = await bindUdp({ address: localAddress, port: options.localPort ?? 0 });
    // A connected socket: no per-datagram address resolution, and the kernel drops datagrams from other peers.
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(options.port ?? GVCP_PORT, address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      await closeUdp(socket);
      throw e;
    }
    return new GvcpClient(socket, address, options);
  }

  /** Local address and port the client sends from. */
  get localAddress(): { address: string; port: number } {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /** The privilege held through {@link takeControl}, as written to the CCP (undefined: none). */
  get controlPrivilege(): number | undefined {
    return this.controlMode;
  }

  on<K extends keyof GvcpClientEvents>(event: K, listener: (...args: GvcpClientEvents[K]) => void): this {
    this.events.on(event, listener as never);
    return this;
  }

  off<K extends keyof GvcpClientEvents>(event: K, listener: (...args: GvcpClientEvents[K]) => void): this {
    this.events.off(event, listener as never);
    return this;
  }

  once<K extends keyof GvcpClientEvents>(event: K, listener: (...args: GvcpClientEvents[K]) => void): this {
    this.events.once(event, listener as never);
    return this;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Request engine

  private nextReqId(): number {
    this.reqId = this.reqId >= 0xffff ? 1 : this.reqId + 1;
    return this.reqId;
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (rinfo.address !== this.address) {
      this.stats.foreign++;
      return;
    }
    let ack: GvcpAck;
    try {
      ack = decodeAck(msg);
    } catch {
      this.stats.malformed++;
      return;
    }
    const w = this.pending.meta(ack.ackId);
    if (w === undefined) {
      this.stats.staleAcks++;
      return;
    }
    if (ack.type === 'pending') this.onPendingAck(ack.ackId, w, ack.timeToCompletion);
    else this.pending.resolve(ack.ackId, ack);
  }

  /** A PENDING_ACK: the device needs longer; the try waits instead of retransmitting, within bounds. */
  private onPendingAck(reqId: number, w: Waiting, timeToCompletion: number): void {
    this.stats.pendingAcks++;
    if (++w.pendings > this.maxPendingAcks) {
      this.pending.reject(
        reqId,
        new ProtocolError(`device sent more than ${this.maxPendingAcks} PENDING_ACKs for req_id ${reqId}`),
      );
      return;
    }
    const left = w.startedAt + this.maxPendingMs - Date.now();
    if (left <= 0) {
      this.pending.reject(
        reqId,
        new ProtocolError(`device kept req_id ${reqId} pending for more than ${this.maxPendingMs} ms (maxPendingMs)`),
      );
      return;
    }
    // The device needs this much longer; allow the per-try timeout on top for the final ack's trip.
    this.pending.extend(reqId, Math.min(timeToCompletion, left) + w.tryTimeoutMs);
  }

  /**
   * Sends one command and waits for its acknowledge (retransmitting, honouring PENDING_ACK). Resolves with the ack
   * (success status only); a non-success status rejects with {@link GvcpStatusError}. Commands sent with
   * `ackRequired: false` resolve with `undefined` once sent.
   */
  request(command: CommandInput, options: GvcpCallOptions = {}): Promise<GvcpAck | undefined> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (options.signal?.aborted) return Promise.reject(abortReason(options.signal));
    const lost = this.lost;
    if (lost) {
      // Report the loss once, to the next call; later calls run (the caller may take control again).
      this.lost = undefined;
      return Promise.reject(lost);
    }
    return this.transact(command, options);
  }

  /** Waits for this caller's turn (undefined: the channel was free and is now ours). No promise on the fast path. */
  private acquire(signal: AbortSignal | undefined): Promise<void> | undefined {
    if (!this.busy) {
      this.busy = true;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.turns.indexOf(turn);
        if (i >= 0) this.turns.splice(i, 1);
        reject(abortReason(signal as AbortSignal));
      };
      const turn = {
        resolve: (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.turns.push(turn);
    });
  }

  /** Hands the channel to the next waiting call, or frees it. */
  private release(): void {
    const next = this.turns.shift();
    if (next) next.resolve();
    else this.busy = false;
  }

  private async transact(command: CommandInput, options: GvcpCallOptions): Promise<GvcpAck | undefined> {
    const wait = this.acquire(options.signal);
    if (wait !== undefined) await wait;
    try {
      if (this.closed) throw new ClientClosedError();
      return await this.exchange(command, options);
    } finally {
      this.release();
    }
  }

  private async exchange(command: CommandInput, options: GvcpCallOptions): Promise<GvcpAck | undefined> {
    const retries = options.retries ?? this.retries;
    const tryTimeoutMs = options.tryTimeoutMs ?? this.tryTimeoutMs;
    checkCount(retries, 0, 100, 'retries');
    checkCount(tryTimeoutMs, 1, 600_000, 'tryTimeoutMs');
    const reqId = this.nextReqId();
    const bytes = encodeCommandWithId(command, reqId);
    this.stats.commands++;
    if (!command.ackRequired) {
      await this.send(bytes);
      return undefined;
    }
    const expected = ACK_CODE_FOR[command.type];
    const waiting: Waiting = { startedAt: Date.now(), tryTimeoutMs, pendings: 0 };
    const ack = await this.pending.request(reqId, waiting, {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      attemptMs: tryTimeoutMs,
      resends: retries,
      what: `GVCP ${command.type.toUpperCase()} to ${this.address}:${this.port} (${retries + 1} tries)`,
      send: (attempt) => {
        if (attempt > 0) this.stats.retransmissions++;
        waiting.pendings = 0;
        this.lastSentAt = Date.now();
        this.socket.send(bytes, (error) => {
          if (error) this.pending.reject(reqId, error);
        });
      },
      onTimeout: () => {
        this.stats.timeouts++;
      },
    });
    if (ack.status !== GvcpStatus.SUCCESS) {
      const index = ack.type === 'writereg' || ack.type === 'writemem' ? ack.index : undefined;
      const address = commandAddress(command);
      throw new GvcpStatusError(ack.status, command.type, {
        ...(index === undefined ? {} : { index }),
        ...(address === undefined ? {} : { address }),
      });
    }
    if (ackCodeOf(ack) !== expected) {
      throw new ProtocolError(
        `device answered ${command.type.toUpperCase()} (req_id ${reqId}) with ack code 0x${ackCodeOf(ack).toString(16)}`,
        ackCodeOf(ack),
      );
    }
    return ack;
  }

  private send(bytes: Uint8Array): Promise<void> {
    this.lastSentAt = Date.now();
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, (e) => (e ? reject(e) : resolve()));
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Registers and memory

  /** The GVCP capability register (read once, then cached). */
  async capabilities(options: GvcpCallOptions = {}): Promise<number> {
    if (this.capabilityValue === undefined) {
      const ack = await this.request(
        { type: 'readreg', ackRequired: true, addresses: [BootstrapRegister.GVCP_CAPABILITY] },
        options,
      );
      this.capabilityValue = ack?.type === 'readreg' ? (ack.values[0] ?? 0) : 0;
    }
    return this.capabilityValue;
  }

  private async concatenation(count: number, options: GvcpCallOptions): Promise<boolean> {
    if (count <= 1) return false;
    try {
      return ((await this.capabilities(options)) & GvcpCapability.CONCATENATION) !== 0;
    } catch (e) {
      if (GvcpStatusError.isInstance(e)) {
        this.capabilityValue = 0;
        return false;
      }
      throw e;
    }
  }

  /** Reads 32-bit registers; several per READREG when the device supports it, else one by one. */
  async readRegisters(addresses: readonly number[], options: GvcpCallOptions = {}): Promise<number[]> {
    for (const a of addresses) checkAddress(a);
    const multi = await this.concatenation(addresses.length, options);
    const step = multi ? READREG_MAX_COUNT : 1;
    const out: number[] = [];
    for (let i = 0; i < addresses.length; i += step) {
      const chunk = addresses.slice(i, i + step);
      const ack = await this.request({ type: 'readreg', ackRequired: true, addresses: chunk }, options);
      if (ack?.type !== 'readreg' || ack.values.length !== chunk.length) {
        throw new ProtocolError(
          `READREG_ACK carries ${ack?.type === 'readreg' ? ack.values.length : 0} values for ${chunk.length} registers`,
        );
      }
      out.push(...ack.values);
    }
    return out;
  }

  /** Writes 32-bit registers; several per WRITEREG when the device supports it, else one by one, in order. */
  async writeRegisters(writes: readonly RegisterWrite[], options: GvcpCallOptions = {}): Promise<void> {
    for (const w of writes) {
      checkAddress(w.address);
      if (!Number.isInteger(w.value) || w.value < 0 || w.value > 0xffffffff) {
        throw new ValueOutOfRangeError('value', `${w.value} is not a u32`);
      }
    }
    const multi = await this.concatenation(writes.length, options);
    const step = multi ? WRITEREG_MAX_COUNT : 1;
    for (let i = 0; i < writes.length; i += step) {
      const chunk = writes.slice(i, i + step);
      const ack = await this.request({ type: 'writereg', ackRequired: true, writes: chunk }, options);
      if (ack?.type === 'writereg' && ack.index !== chunk.length) {
        throw new ProtocolError(`WRITEREG_ACK reports ${ack.index} of ${chunk.length} registers written`);
      }
    }
  }

  async readRegister(address: number, options: GvcpCallOptions = {}): Promise<number> {
    checkAddress(address);
    const ack = await this.request({ type: 'readreg', ackRequired: true, addresses: [address] }, options);
    if (ack?.type !== 'readreg' || ack.values.length !== 1) {
      throw new ProtocolError(`READREG_ACK for 0x${address.toString(16)} carries no single value`);
    }
    return ack.values[0] ?? 0;
  }

  async writeRegister(address: number, value: number, options: GvcpCallOptions = {}): Promise<void> {
    await this.writeRegisters([{ address, value }], options);
  }

  /**
   * Reads `length` bytes of device memory from `address`, in READMEM chunks of at most 512 bytes. Unaligned
   * starts and lengths are widened to 32-bit words on the wire and cut back here.
   */
  async readMemory(address: number, length: number, options: GvcpCallOptions = {}): Promise<Uint8Array> {
    checkAddress(address, false);
    if (!Number.isInteger(length) || length < 0 || address + length > 0x1_0000_0000) {
      throw new ValueOutOfRangeError(
        'length',
        `${length} bytes from 0x${address.toString(16)} leave the 32-bit address space`,
      );
    }
    const out = new Uint8Array(length);
    const start = address - (address % 4);
    const end = Math.min(0x1_0000_0000, Math.ceil((address + length) / 4) * 4);
    for (let at = start; at < end; at += MEMORY_CHUNK_SIZE) {
      const count = Math.min(MEMORY_CHUNK_SIZE, end - at);
      const ack = await this.request({ type: 'readmem', ackRequired: true, address: at, count }, options);
      if (ack?.type !== 'readmem' || ack.address !== at || ack.data.byteLength !== count) {
        throw new ProtocolError(
          `READMEM_ACK for ${count} bytes at 0x${at.toString(16)} carries ${ack?.type === 'readmem' ? `${ack.data.byteLength} bytes at 0x${ack.address.toString(16)}` : 'nothing'}`,
        );
      }
      // Copy the part of this chunk that falls inside [address, address + length).
      const from = Math.max(at, address);
      const to = Math.min(at + count, address + length);
      if (to > from) out.set(ack.data.subarray(from - at, to - at), from - address);
    }
    return out;
  }

  /** Writes device memory in WRITEMEM chunks of at most 512 bytes; address and length must be multiples of 4. */
  async writeMemory(address: number, data: Uint8Array, options: GvcpCallOptions = {}): Promise<void> {
    checkAddress(address);
    if (data.byteLength % 4 !== 0)
      throw new ValueOutOfRangeError('data', `${data.byteLength} bytes is not a multiple of 4`);
    if (address + data.byteLength > 0x1_0000_0000)
      throw new ValueOutOfRangeError('data', 'runs past the 32-bit address space');
    for (let off = 0; off < data.byteLength; off += MEMORY_CHUNK_SIZE) {
      const chunk = data.subarray(off, Math.min(off + MEMORY_CHUNK_SIZE, data.byteLength));
      const ack = await this.request(
        { type: 'writemem', ackRequired: true, address: address + off, data: chunk },
        options,
      );
      if (ack?.type === 'writemem' && ack.index !== chunk.byteLength) {
        throw new ProtocolError(`WRITEMEM_ACK reports ${ack.index} of ${chunk.byteLength} bytes written`);
      }
    }
  }

  /** Bootstrap registers 0x0000-0x00F7 (what DISCOVERY_ACK carries) read through READMEM. */
  async deviceInfo(options: GvcpCallOptions = {}): Promise<DeviceInfo> {
    return decodeDeviceInfo(await this.readMemory(0, DEVICE_INFO_SIZE, options));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Control privilege

  /**
   * Takes control through the CCP register and keeps it with a heartbeat (a CCP read) whose period follows the
   * device's heartbeat timeout. If a heartbeat fails or shows the privilege gone, 'control-lost' is emitted and the
   * next call rejects with {@link ControlLostError}.
   */
  async takeControl(options: ControlOptions = {}): Promise<void> {
    const mode = options.mode ?? 'control';
    let value = mode === 'exclusive' ? CcpBits.EXCLUSIVE_ACCESS : CcpBits.CONTROL_ACCESS;
    if (mode === 'switchover') {
      if (options.switchoverKey === undefined)
        throw new ValueOutOfRangeError('switchoverKey', 'switchover needs the key');
    }
    if (options.switchoverKey !== undefined) checkCount(options.switchoverKey, 0, 0xffff, 'switchoverKey');
    if (mode === 'switchover') value |= (options.switchoverKey ?? 0) << CcpBits.SWITCHOVER_KEY_SHIFT;
    if (options.allowSwitchover) value |= CcpBits.CONTROL_SWITCHOVER_ENABLE;
    await this.writeRegister(BootstrapRegister.CCP, value >>> 0, options);
    this.controlMode = value >>> 0;
    this.lost = undefined;
    if (options.allowSwitchover && options.switchoverKey !== undefined && mode !== 'switchover') {
      await this.writeRegister(BootstrapRegister.CONTROL_SWITCHOVER_KEY, options.switchoverKey, options);
    }
    let period = options.heartbeatMs;
    if (period === undefined) {
      let timeout = 3000;
      try {
        timeout = await this.readRegister(BootstrapRegister.HEARTBEAT_TIMEOUT, options);
      } catch (e) {
        if (!GvcpStatusError.isInstance(e)) throw e;
      }
      period = heartbeatPeriodFor(timeout);
    }
    this.heartbeatPeriod = period;
    this.scheduleHeartbeat();
  }

  /** Gives control back (writes 0 to the CCP) and stops the heartbeat. */
  async releaseControl(options: GvcpCallOptions = {}): Promise<void> {
    this.stopHeartbeat();
    if (this.controlMode === undefined) return;
    this.controlMode = undefined;
    await this.writeRegister(BootstrapRegister.CCP, 0, options);
  }

  private scheduleHeartbeat(): void {
    this.stopHeartbeat();
    if (this.closed || this.controlMode === undefined || this.heartbeatPeriod <= 0) return;
    const since = Date.now() - this.lastSentAt;
    // Any command resets the device's heartbeat counter, so the next heartbeat is due one period after the last.
    const due = Math.max(0, this.heartbeatPeriod - since);
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), due);
    this.heartbeatTimer.unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== undefined) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private async heartbeat(): Promise<void> {
    this.heartbeatTimer = undefined;
    const held = this.controlMode;
    if (this.closed || held === undefined) return;
    if (Date.now() - this.lastSentAt < this.heartbeatPeriod - 5) {
      this.scheduleHeartbeat();
      return;
    }
    try {
      this.stats.heartbeats++;
      const ack = await this.transact({ type: 'readreg', ackRequired: true, addresses: [BootstrapRegister.CCP] }, {});
      const ccp = ack?.type === 'readreg' ? (ack.values[0] ?? 0) : 0;
      if (this.controlMode === undefined || this.closed) return;
      if ((ccp & (CcpBits.EXCLUSIVE_ACCESS | CcpBits.CONTROL_ACCESS)) === 0) {
        this.loseControl(new ControlLostError(`control of ${this.address} lost: CCP reads 0x${ccp.toString(16)}`));
        return;
      }
    } catch (e) {
      if (this.closed || this.controlMode === undefined) return;
      if (ControlLostError.isInstance(e) || AbortError.isInstance(e)) return;
      this.loseControl(
        new ControlLostError(`control of ${this.address} lost: heartbeat failed (${(e as Error).message})`, {
          cause: e,
        }),
      );
      return;
    }
    this.scheduleHeartbeat();
  }

  private loseControl(error: ControlLostError): void {
    this.stopHeartbeat();
    this.controlMode = undefined;
    this.lost = error;
    this.events.emit('control-lost', error);
  }

  // -------------------------------------------------------------------------------------------------------------

  /** Releases control (if held, best effort, one short try) and closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stopHeartbeat();
    if (this.controlMode !== undefined) {
      this.controlMode = undefined;
      try {
        await this.transact(
          { type: 'writereg', ackRequired: true, writes: [{ address: BootstrapRegister.CCP, value: 0 }] },
          { retries: 1, tryTimeoutMs: Math.min(this.tryTimeoutMs, 200) },
        );
      } catch {
        // The device may be gone; closing must still succeed.
      }
    }
    this.closed = true;
    // A command still waiting for its ack fails now rather than running out its retries.
    this.pending.rejectWhere(new ClientClosedError());
    // Let calls already waiting run out (they see `closed` and reject) before the socket goes.
    const wait = this.acquire(undefined);
    if (wait !== undefined) await wait;
    this.release();
    await closeUdp(this.socket);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Heartbeat period for a device heartbeat timeout: a third of it, kept within 100..1000 ms. */
export function heartbeatPeriodFor(heartbeatTimeoutMs: number): number {
  if (!Number.isFinite(heartbeatTimeoutMs) || heartbeatTimeoutMs <= 0) return 1000;
  return Math.max(100, Math.min(1000, Math.floor(heartbeatTimeoutMs / 3)));
}

function commandAddress(command: CommandInput): number | undefined {
  switch (command.type) {
    case 'readreg':
      return command.addresses.length === 1 ? command.addresses[0] : undefined;
    case 'writereg':
      return command.writes.length === 1 ? command.writes[0]?.address : undefined;
    case 'readmem':
    case 'writemem':
      return command.address;
    default:
      return undefined;
  }
}

function checkAddress(address: number, aligned = true): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
    throw new ValueOutOfRangeError('address', `${address} is not a 32-bit address`);
  }
  if (aligned && address % 4 !== 0) {
    throw new ValueOutOfRangeError('address', `0x${address.toString(16)} is not 32-bit aligned`);
  }
}

function checkCount(value: number | undefined, min: number, max: number, field: string): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValueOutOfRangeError(field, `${value} is not an integer in ${min}..${max}`);
  }
}
