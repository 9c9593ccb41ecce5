import {
  abortReason,
  type CallOptions,
  type Ipv4Interface,
  isIpv4,
  listIpv4Interfaces,
  sameSubnet,
  ValueOutOfRangeError,
} from '@cam/net-utils';
import { type DeviceInfo, decodeAck, encodeCommand, GVCP_PORT, GvcpStatus } from '../codec/index.js';
import { bindUdp, closeUdp, type RemoteInfo, type Socket } from './udp.js';

/** A device that answered DISCOVERY. */
export interface DiscoveredDevice extends DeviceInfo {
  /** Address the DISCOVERY_ACK came from (normally the device's current IP). */
  address: string;
  /** Port it came from (3956 unless the device serves GVCP elsewhere). */
  port: number;
  /**
   * Host interface address the reply arrived on: use it as the local address when connecting, so traffic stays on
   * the NIC that saw the camera. Empty string when a broadcast ack could not be tied to one interface.
   */
  interfaceAddress: string;
}

/** Options of {@link discover}. */
export interface DiscoverOptions extends CallOptions {
  /** Unicast DISCOVERY to this device only (the one mode that works on loopback). */
  address?: string;
  /** Broadcast from this host interface address only. */
  interface?: string;
  /** Device GVCP port (default 3956). */
  port?: number;
  /** How long to collect replies, in ms (default 1000; unicast returns on the first reply). */
  timeoutMs?: number;
  /** Ask devices on foreign subnets to answer by broadcast (default true for broadcast discovery). */
  allowBroadcastAck?: boolean;
  /** Unicast: DISCOVERY retransmissions when no reply came (default 2). */
  retries?: number;
}

const MAX_DEVICES = 4096;
let discoveryReqId = 0;
function nextReqId(): number {
  discoveryReqId = discoveryReqId >= 0xffff ? 1 : discoveryReqId + 1;
  return discoveryReqId;
}

function parseReply(msg: Uint8Array, reqId: number): DeviceInfo | undefined {
  try {
    const ack = decodeAck(msg);
    if (ack.type !== 'discovery' || ack.status !== GvcpStatus.SUCCESS || ack.ackId !== reqId) return undefined;
    return ack.device;
  } catch {
    return undefined;
  }
}

/**
 * Finds GigE Vision devices. With no `address` / `interface`: from every IPv4 interface (loopback excluded), a
 * global broadcast (255.255.255.255) and a directed subnet broadcast, replies de-duplicated by MAC. With
 * `interface`: that interface only. With `address`: unicast to one device. Each result names the host interface
 * the reply arrived on.
 */
export async function discover(options: DiscoverOptions = {}): Promise<DiscoveredDevice[]> {
  if (options.signal?.aborted) throw abortReason(options.signal);
  const port = options.port ?? GVCP_PORT;
  const timeoutMs = options.timeoutMs ?? 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > 600_000) {
    throw new ValueOutOfRangeError('timeoutMs', `${timeoutMs} is not in 0..600000`);
  }
  if (options.address !== undefined) return discoverUnicast(options.address, port, timeoutMs, options);
  let interfaces = listIpv4Interfaces({ includeInternal: false });
  if (options.interface !== undefined) {
    if (!isIpv4(options.interface))
      throw new ValueOutOfRangeError('interface', `"${options.interface}" is not an IPv4 address`);
    const all = listIpv4Interfaces();
    const found = all.find((i) => i.address === options.interface);
    if (!found) throw new ValueOutOfRangeError('interface', `no host interface has address ${options.interface}`);
    interfaces = [found];
  }
  if (interfaces.length === 0) return [];
  return discoverBroadcast(interfaces, port, timeoutMs, options);
}

async function discoverUnicast(
  address: string,
  port: number,
  timeoutMs: number,
  options: DiscoverOptions,
): Promise<DiscoveredDevice[]> {
  if (!isIpv4(address)) throw new ValueOutOfRangeError('address', `"${address}" is not an IPv4 address`);
  const socket = await bindUdp();
  try {
    // A connected socket learns the local address the route to the device uses: the interface address.
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {});
    const interfaceAddress = socket.address().address;
    const reqId = nextReqId();
    const bytes = encodeCommand({
      type: 'discovery',
      reqId,
      ackRequired: true,
      allowBroadcastAck: options.allowBroadcastAck ?? false,
    });
    const tries = (options.retries ?? 2) + 1;
    const perTry = Math.max(1, Math.floor(timeoutMs / tries));
    return await new Promise<DiscoveredDevice[]>((resolve, reject) => {
      let attempt = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (v: DiscoveredDevice[] | Error): void => {
        if (timer !== undefined) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.off('message', onMessage);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const onAbort = (): void => done(abortReason(options.signal!));
      const onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
        const device = parseReply(msg, reqId);
        if (device) done([{ ...device, address: rinfo.address, port: rinfo.port, interfaceAddress }]);
      };
      const tick = (): void => {
        if (attempt++ >= tries) {
          done([]);
          return;
        }
        socket.send(bytes, (e) => {
          if (e) done([]);
        });
        timer = setTimeout(tick, perTry);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.on('message', onMessage);
      tick();
    });
  } finally {
    await closeUdp(socket);
  }
}

async function discoverBroadcast(
  interfaces: Ipv4Interface[],
  port: number,
  timeoutMs: number,
  options: DiscoverOptions,
): Promise<DiscoveredDevice[]> {
  const sockets: { socket: Socket; iface: Ipv4Interface | undefined }[] = [];
  const found = new Map<string, DiscoveredDevice>();
  const reqId = nextReqId();
  const bytes = encodeCommand({
    type: 'discovery',
    reqId,
    ackRequired: true,
    allowBroadcastAck: options.allowBroadcastAck ?? true,
  });
  try {
    // A wildcard socket catches broadcast acks (devices on a foreign subnet); one socket per interface, bound to
    // its address on the same port, catches unicast acks and tells which interface they came in on.
    const wildcard = await bindUdp({ reuseAddr: true });
    sockets.push({ socket: wildcard, iface: undefined });
    const localPort = wildcard.address().port;
    for (const iface of interfaces) {
      try {
        const s = await bindUdp({ address: iface.address, port: localPort, reuseAddr: true });
        s.setBroadcast(true);
        sockets.push({ socket: s, iface });
      } catch {
        // An interface that went away between listing and binding is skipped.
      }
    }
    const onReply = (iface: Ipv4Interface | undefined) => (msg: Buffer, rinfo: RemoteInfo) => {
      const device = parseReply(msg, reqId);
      if (!device || found.size >= MAX_DEVICES) return;
      const key = device.mac;
      const via =
        iface ??
        interfaces.find((i) => sameSubnet(i.address, rinfo.address, i.netmask)) ??
        (interfaces.length === 1 ? interfaces[0] : undefined);
      const entry: DiscoveredDevice = {
        ...device,
        address: rinfo.address,
        port: rinfo.port,
        interfaceAddress: via?.address ?? '',
      };
      const prev = found.get(key);
      if (!prev || (prev.interfaceAddress === '' && entry.interfaceAddress !== '')) found.set(key, entry);
    };
    for (const { socket, iface } of sockets) {
      socket.on('message', onReply(iface));
      socket.on('error', () => {});
    }
    for (const { socket, iface } of sockets) {
      if (!iface) continue;
      for (const target of new Set(['255.255.255.255', iface.broadcast])) {
        socket.send(bytes, port, target, () => {});
      }
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, timeoutMs);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(options.signal!));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    return [...found.values()];
  } finally {
    await Promise.all(sockets.map(({ socket }) => closeUdp(socket)));
  }
}

/** Options of {@link forceIp}. */
export interface ForceIpOptions extends CallOptions {
  /** The device to re-address. */
  mac: string;
  ip: string;
  mask: string;
  gateway?: string;
  /** Send from this host interface only (default: every IPv4 interface). */
  interface?: string;
  /** Unicast to this address instead of broadcasting (for a device you can already reach, or loopback tests). */
  address?: string;
  /** Device GVCP port (default 3956). */
  port?: number;
  /** How long to wait for FORCEIP_ACK in ms (default 1000). */
  timeoutMs?: number;
}

/** Outcome of {@link forceIp}. */
export interface ForceIpResult {
  /** True when the device acknowledged. */
  acknowledged: boolean;
  /** Status of the ack (when acknowledged). */
  status?: number;
  /** Address the ack came from. */
  from?: string;
}

/**
 * Re-addresses a device by MAC with FORCEIP (broadcast, allow-broadcast-ack set, so a device on a foreign subnet
 * can answer). Not persistent across power cycles.
 */
export async function forceIp(options: ForceIpOptions): Promise<ForceIpResult> {
  if (options.signal?.aborted) throw abortReason(options.signal);
  for (const [k, v] of [
    ['ip', options.ip],
    ['mask', options.mask],
    ['gateway', options.gateway ?? '0.0.0.0'],
  ] as const) {
    if (!isIpv4(v)) throw new ValueOutOfRangeError(k, `"${v}" is not an IPv4 address`);
  }
  const port = options.port ?? GVCP_PORT;
  const timeoutMs = options.timeoutMs ?? 1000;
  const reqId = nextReqId();
  const bytes = encodeCommand({
    type: 'forceip',
    reqId,
    ackRequired: true,
    allowBroadcastAck: true,
    mac: options.mac,
    ip: options.ip,
    mask: options.mask,
    gateway: options.gateway ?? '0.0.0.0',
  });
  const sockets: Socket[] = [];
  try {
    const targets: { socket: Socket; address: string }[] = [];
    if (options.address !== undefined) {
      if (!isIpv4(options.address))
        throw new ValueOutOfRangeError('address', `"${options.address}" is not an IPv4 address`);
      const s = await bindUdp();
      sockets.push(s);
      targets.push({ socket: s, address: options.address });
    } else {
      const wildcard = await bindUdp({ reuseAddr: true });
      sockets.push(wildcard);
      let interfaces = listIpv4Interfaces({ includeInternal: false });
      if (options.interface !== undefined)
        interfaces = listIpv4Interfaces().filter((i) => i.address === options.interface);
      if (interfaces.length === 0)
        throw new ValueOutOfRangeError('interface', 'no IPv4 interface to send FORCEIP from');
      for (const iface of interfaces) {
        const s = await bindUdp({ address: iface.address, port: wildcard.address().port, reuseAddr: true });
        s.setBroadcast(true);
        sockets.push(s);
        targets.push({ socket: s, address: '255.255.255.255' });
      }
    }
    return await new Promise<ForceIpResult>((resolve, reject) => {
      const done = (v: ForceIpResult | Error): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const onAbort = (): void => done(abortReason(options.signal!));
      const timer = setTimeout(() => done({ acknowledged: false }), timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      for (const s of sockets) {
        s.on('error', () => {});
        s.on('message', (msg, rinfo) => {
          try {
            const ack = decodeAck(msg);
            if ((ack.type === 'forceip' || (ack.type === 'error' && ack.ackCode === 0x0005)) && ack.ackId === reqId) {
              done({ acknowledged: true, status: ack.status, from: rinfo.address });
            }
          } catch {
            // Not an ack: ignore.
          }
        });
      }
      for (const t of targets) t.socket.send(bytes, port, t.address, () => {});
    });
  } finally {
    await Promise.all(sockets.map(closeUdp));
  }
}
