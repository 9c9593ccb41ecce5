/**
 * The device's message channel, part of the GVCP server (device.ts): EVENT and EVENTDATA to the host at MCDA:MCP,
 * one at a time and in order, each sent again after MCTT ms up to MCRC times until the host acknowledges (through
 * net-utils' PendingRequests, the loop every UDP request in @cam uses), from its own socket (port in MCSP).
 */
import { createSocket, type Socket } from 'node:dgram';
import { AbortError, PendingRequests, u32ToIpv4 } from '@cam/net-utils';
import {
  BootstrapRegister as B,
  decodeAck,
  encodeCommand,
  type GvcpAck,
  GvcpStatus,
  GvspConfigurationBits,
} from '../codec/index.js';
import type { RegisterSpace } from './registers.js';
import type { DeviceEvent, EventDelivery, GvcpDeviceStats } from './types.js';

/** Events waiting to be sent; beyond this `send` answers "not sent" at once. */
const MAX_QUEUED_EVENTS = 64;

/** What the channel needs from its device. */
export interface MessageChannelHost {
  readonly registers: RegisterSpace;
  readonly stats: GvcpDeviceStats;
  /** Address the channel's socket binds to for events to `host` (the address that host reached, see device.ts). */
  sourceAddress(host: string): string;
  /** Device timestamp for events that carry none. */
  timestamp(): bigint;
  /** A failure that must not escape (a socket error while a register handler raised the event). */
  reportError(error: unknown): void;
}

export class MessageChannel {
  readonly #host: MessageChannelHost;
  readonly #closer = new AbortController();
  /** Events waiting for their acknowledge, by req_id (one at a time: the queue below). */
  readonly #pending: PendingRequests<number, { expected: 'event' | 'eventdata' }, GvcpAck>;
  #socket: Socket | undefined;
  /** The local address #socket is bound to. */
  #source = '';
  #reqId = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #queued = 0;

  constructor(host: MessageChannelHost) {
    this.#host = host;
    this.#pending = new PendingRequests({ signal: this.#closer.signal, unref: true });
  }

  /**
   * Sends an EVENT (or EVENTDATA with `data`) to the message channel (MCDA:MCP), retrying after MCTT ms up to MCRC
   * times until the host acknowledges. Events are sent one at a time, in order.
   */
  send(event: DeviceEvent): Promise<EventDelivery> {
    const stats = this.#host.stats;
    if (this.#closer.signal.aborted) return Promise.resolve({ sent: false, acknowledged: false, attempts: 0 });
    if (this.#queued >= MAX_QUEUED_EVENTS) {
      stats.eventsUnacknowledged++;
      return Promise.resolve({ sent: false, acknowledged: false, attempts: 0 });
    }
    this.#queued++;
    const run = this.#queue.then(() =>
      this.#deliver(event).catch((error: unknown): EventDelivery => {
        // A socket failure must not surface as an unhandled rejection from a register handler.
        this.#host.reportError(error);
        return { sent: false, acknowledged: false, attempts: 0 };
      }),
    );
    const done = (): void => {
      this.#queued--;
    };
    this.#queue = run.then(done, done);
    return run;
  }

  /** Stops: an event waiting for its acknowledge ends unacknowledged, the socket closes. */
  async close(): Promise<void> {
    if (this.#closer.signal.aborted) return;
    this.#closer.abort(new AbortError('GvcpDevice closed'));
    const s = this.#socket;
    this.#socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async #open(host: string): Promise<Socket> {
    const source = this.#host.sourceAddress(host);
    if (this.#socket) {
      if (this.#source === source) return this.#socket;
      // the host now reaches another of our addresses (FORCEIP, a new interface): events follow it
      const old = this.#socket;
      this.#socket = undefined;
      old.close();
    }
    const stats = this.#host.stats;
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ port: 0, address: source }, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', () => {
      stats.sendErrors++;
    });
    s.on('message', (msg) => {
      let ack: GvcpAck;
      try {
        ack = decodeAck(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
      } catch {
        stats.badDatagrams++;
        return;
      }
      // an acknowledge of the wrong kind or with an error status is no acknowledge: the event is sent again
      const waiting = this.#pending.meta(ack.ackId);
      if (waiting && ack.type === waiting.expected && ack.status === GvcpStatus.SUCCESS) {
        this.#pending.resolve(ack.ackId, ack);
      }
    });
    if (this.#closer.signal.aborted) {
      s.close();
      throw new Error('GvcpDevice is closed');
    }
    this.#socket = s;
    this.#source = source;
    return s;
  }

  async #deliver(event: DeviceEvent): Promise<EventDelivery> {
    const r = this.#host.registers;
    const stats = this.#host.stats;
    const port = r.get(B.MCP) & 0xffff;
    const address = u32ToIpv4(r.get(B.MCDA));
    if (this.#closer.signal.aborted || port === 0 || address === '0.0.0.0') {
      return { sent: false, acknowledged: false, attempts: 0 };
    }
    const socket = await this.#open(address);
    r.set(B.MCSP, socket.address().port);
    this.#reqId = (this.#reqId % 0xffff) + 1;
    const reqId = this.#reqId;
    const extendedId = (r.get(B.GVSP_CONFIGURATION) & GvspConfigurationBits.BLOCK_ID_64BIT_ENABLE) !== 0;
    const e = {
      eventId: event.eventId,
      streamChannel: event.streamChannel ?? 0xffff,
      blockId: event.blockId ?? 0n,
      timestamp: event.timestamp ?? this.#host.timestamp(),
    };
    const bytes = event.data
      ? encodeCommand({ type: 'eventdata', reqId, ackRequired: true, extendedId, event: e, data: event.data })
      : encodeCommand({ type: 'event', reqId, ackRequired: true, extendedId, events: [e] });
    let attempts = 0;
    try {
      await this.#pending.request(
        reqId,
        { expected: event.data ? 'eventdata' : 'event' },
        {
          attemptMs: Math.max(1, r.get(B.MCTT)),
          resends: Math.min(r.get(B.MCRC), 100),
          what: `event 0x${event.eventId.toString(16)} to ${address}:${port}`,
          send: (attempt) => {
            attempts++;
            if (attempt > 0) stats.eventRetries++;
            stats.eventsSent++;
            try {
              socket.send(bytes, port, address, (error) => {
                if (error) stats.sendErrors++;
              });
            } catch {
              stats.sendErrors++;
            }
          },
        },
      );
    } catch {
      // out of attempts, or the device closed
      stats.eventsUnacknowledged++;
      return { sent: true, acknowledged: false, attempts };
    }
    stats.eventsAcknowledged++;
    return { sent: true, acknowledged: true, attempts };
  }
}
