import { abortReason, type CallOptions, ipv4ToU32, isLoopback, ValueOutOfRangeError } from '@cam/net-utils';
import {
  BootstrapRegister,
  decodeCommand,
  type EventCommand,
  type EventDataCommand,
  encodeAck,
  GvcpStatus,
  type RegisterWrite,
} from '../codec/index.js';
import type { GvcpClient } from './client.js';
import { bindUdp, closeUdp, type RemoteInfo, type Socket } from './udp.js';

/** An EVENT or EVENTDATA command received on the message channel. */
export type MessageChannelEvent = (EventCommand | EventDataCommand) & {
  /** Address and port the device sent it from. */
  from: { address: string; port: number };
};

/** Options of {@link openMessageChannel}. */
export interface MessageChannelOptions extends CallOptions {
  /** Local address to receive on and to write into MCDA (default: the client's local address). */
  localAddress?: string;
  /** Local port (default 0: any free port). */
  localPort?: number;
  /** MCTT: how long the device waits for our ack before retrying, in ms. */
  transmissionTimeoutMs?: number;
  /** MCRC: how often the device retries an unacknowledged event. */
  retryCount?: number;
  /** Events queued while nobody reads; older ones are dropped beyond this (default 1024). */
  maxQueued?: number;
}

/** Counters of a message channel. */
export interface MessageChannelStats {
  received: number;
  duplicates: number;
  malformed: number;
  dropped: number;
  foreign: number;
}

/**
 * The message channel of one device: a local UDP port written into MCP/MCDA; EVENT / EVENTDATA commands arrive as
 * an async iterable, each acknowledged at once (retransmissions, same req_id, are acknowledged again but yielded
 * only once).
 */
export class MessageChannel implements AsyncIterable<MessageChannelEvent>, AsyncDisposable {
  readonly stats: MessageChannelStats = { received: 0, duplicates: 0, malformed: 0, dropped: 0, foreign: 0 };
  private readonly queue: MessageChannelEvent[] = [];
  private readonly waiters: ((r: IteratorResult<MessageChannelEvent>) => void)[] = [];
  private readonly recent: number[] = [];
  private closed = false;

  constructor(
    private readonly client: GvcpClient,
    private readonly socket: Socket,
    private readonly maxQueued: number,
  ) {
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    socket.on('error', () => {});
  }

  /** Local address and port events arrive on. */
  get local(): { address: string; port: number } {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (rinfo.address !== this.client.address) {
      this.stats.foreign++;
      return;
    }
    let cmd: ReturnType<typeof decodeCommand>;
    try {
      cmd = decodeCommand(msg);
    } catch {
      this.stats.malformed++;
      return;
    }
    if (cmd.type !== 'event' && cmd.type !== 'eventdata') {
      this.stats.malformed++;
      return;
    }
    if (cmd.ackRequired) {
      const ack = encodeAck({ type: cmd.type, ackId: cmd.reqId, status: GvcpStatus.SUCCESS });
      this.socket.send(ack, rinfo.port, rinfo.address, () => {});
    }
    if (this.recent.includes(cmd.reqId)) {
      this.stats.duplicates++;
      return;
    }
    this.recent.push(cmd.reqId);
    if (this.recent.length > 64) this.recent.shift();
    this.stats.received++;
    // Copy the data: the datagram buffer is not ours to keep.
    const event: MessageChannelEvent =
      cmd.type === 'eventdata'
        ? { ...cmd, data: new Uint8Array(cmd.data), from: { address: rinfo.address, port: rinfo.port } }
        : { ...cmd, from: { address: rinfo.address, port: rinfo.port } };
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter({ value: event, done: false });
      return;
    }
    this.queue.push(event);
    if (this.queue.length > this.maxQueued) {
      this.queue.shift();
      this.stats.dropped++;
    }
  }

  /** Next event, or `undefined` once the channel is closed. Rejects when `signal` fires. */
  next(options: CallOptions = {}): Promise<MessageChannelEvent | undefined> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter = (r: IteratorResult<MessageChannelEvent>): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(r.done ? undefined : r.value);
      };
      const drop = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      const onAbort = (): void => {
        drop();
        if (timer !== undefined) clearTimeout(timer);
        reject(abortReason(signal!));
      };
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          drop();
          signal?.removeEventListener('abort', onAbort);
          resolve(undefined);
        }, options.timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<MessageChannelEvent> {
    for (;;) {
      const e = await this.next();
      if (e === undefined) return;
      yield e;
    }
  }

  /** Points the device's message channel away (MCP = 0, best effort) and closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    try {
      await this.client.writeRegister(BootstrapRegister.MCP, 0, { retries: 1, tryTimeoutMs: 200 });
    } catch {
      // The device may be gone or control lost; the socket still closes.
    }
    await closeUdp(this.socket);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Opens the message channel of the device behind `client` (which must hold control): binds a local port and writes
 * MCDA (our address), MCTT / MCRC when given, then MCP (our port, which enables the channel).
 */
export async function openMessageChannel(
  client: GvcpClient,
  options: MessageChannelOptions = {},
): Promise<MessageChannel> {
  if (options.signal?.aborted) throw abortReason(options.signal);
  const clientLocal = client.localAddress.address;
  const localAddress =
    options.localAddress ??
    (clientLocal !== '0.0.0.0' ? clientLocal : isLoopback(client.address) ? '127.0.0.1' : '0.0.0.0');
  if (localAddress === '0.0.0.0') {
    throw new ValueOutOfRangeError(
      'localAddress',
      `no host interface on the subnet of ${client.address}; pass localAddress`,
    );
  }
  const socket = await bindUdp({ address: localAddress, port: options.localPort ?? 0 });
  const channel = new MessageChannel(client, socket, options.maxQueued ?? 1024);
  try {
    const writes: RegisterWrite[] = [{ address: BootstrapRegister.MCDA, value: ipv4ToU32(localAddress) }];
    if (options.transmissionTimeoutMs !== undefined)
      writes.push({ address: BootstrapRegister.MCTT, value: options.transmissionTimeoutMs });
    if (options.retryCount !== undefined) writes.push({ address: BootstrapRegister.MCRC, value: options.retryCount });
    writes.push({ address: BootstrapRegister.MCP, value: socket.address().port });
    await client.writeRegisters(writes, options);
  } catch (e) {
    await closeUdp(socket);
    throw e;
  }
  return channel;
}
