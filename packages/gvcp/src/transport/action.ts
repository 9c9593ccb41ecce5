import { abortReason, type CallOptions, isIpv4, listIpv4Interfaces, ValueOutOfRangeError } from '@cam/net-utils';
import { decodeAck, encodeCommand, GVCP_PORT, GvcpAckCode } from '../codec/index.js';
import { bindUdp, closeUdp } from './udp.js';

/** Options of {@link sendAction}. */
export interface ActionOptions extends CallOptions {
  deviceKey: number;
  groupKey: number;
  groupMask: number;
  /** Fire at this device timestamp (scheduled action, flag 0x80); immediately when absent. */
  actionTime?: bigint;
  /** Unicast device address, or a broadcast address (directed or 255.255.255.255). */
  address: string;
  /** Device GVCP port (default 3956). */
  port?: number;
  /** Local address to send from (needed for broadcast on a host with several interfaces). */
  localAddress?: string;
  /** How long to collect ACTION_ACKs in ms (default 500). */
  timeoutMs?: number;
  /** Ask for acknowledges (default true); without, the promise resolves with [] once sent. */
  ackRequired?: boolean;
  /** Whether `address` is a broadcast address (default: 255.255.255.255 or an interface's subnet broadcast). */
  broadcast?: boolean;
  /** Unicast: resolve as soon as one ack arrived (default true for a unicast address). */
  firstAckOnly?: boolean;
}

/** One ACTION_ACK. */
export interface ActionAcknowledge {
  address: string;
  port: number;
  status: number;
}

let actionReqId = 0;

/**
 * Sends an ACTION command (unicast or broadcast, optionally scheduled) and collects the ACTION_ACKs that arrive
 * within the timeout. Devices whose keys do not match stay silent, so an empty list is a normal outcome.
 */
export async function sendAction(options: ActionOptions): Promise<ActionAcknowledge[]> {
  if (options.signal?.aborted) throw abortReason(options.signal);
  if (!isIpv4(options.address))
    throw new ValueOutOfRangeError('address', `"${options.address}" is not an IPv4 address`);
  const ackRequired = options.ackRequired ?? true;
  actionReqId = actionReqId >= 0xffff ? 1 : actionReqId + 1;
  const reqId = actionReqId;
  const bytes = encodeCommand({
    type: 'action',
    reqId,
    ackRequired,
    deviceKey: options.deviceKey,
    groupKey: options.groupKey,
    groupMask: options.groupMask,
    ...(options.actionTime === undefined ? {} : { actionTime: options.actionTime }),
  });
  const broadcast =
    options.broadcast ??
    (options.address === '255.255.255.255' ||
      listIpv4Interfaces().some((i) => !i.internal && i.broadcast === options.address));
  const socket = await bindUdp({ address: options.localAddress ?? '0.0.0.0', reuseAddr: false });
  try {
    socket.on('error', () => {});
    if (broadcast) socket.setBroadcast(true);
    const port = options.port ?? GVCP_PORT;
    const acks: ActionAcknowledge[] = [];
    const firstOnly = options.firstAckOnly ?? !broadcast;
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve();
      };
      const onAbort = (): void => done(abortReason(options.signal!));
      const timer = setTimeout(() => done(), ackRequired ? (options.timeoutMs ?? 500) : 0);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.on('message', (msg, rinfo) => {
        try {
          const ack = decodeAck(msg);
          const code = ack.type === 'error' ? ack.ackCode : ack.type === 'action' ? GvcpAckCode.ACTION_ACK : -1;
          if (code !== GvcpAckCode.ACTION_ACK || ack.ackId !== reqId || acks.length >= 4096) return;
          acks.push({ address: rinfo.address, port: rinfo.port, status: ack.status });
          if (firstOnly) done();
        } catch {
          // Not an ack: ignore.
        }
      });
      socket.send(bytes, port, options.address, (e) => {
        if (e) done(e);
      });
    });
    return acks;
  } finally {
    await closeUdp(socket);
  }
}
