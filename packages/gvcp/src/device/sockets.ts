/**
 * The GVCP sockets of a simulated device. Bound to one address: one socket, as a camera with one interface. Bound to
 * every interface (`0.0.0.0`): one socket per IPv4 interface address (loopback included), so every reply leaves
 * from the address the host sent to, plus sockets bound to the broadcast addresses (255.255.255.255 and each
 * subnet's directed broadcast) that receive DISCOVERY and FORCEIP broadcasts; those are answered from the unicast
 * socket of the interface on the sender's subnet. Node's dgram has no IP_PKTINFO, and a socket bound to the
 * wildcard answers from whatever source the route picks, hence a socket per address (as Aravis's fake camera binds
 * its interface address and a separate discovery socket on the broadcast address).
 *
 * No SO_REUSEADDR anywhere: every bind is to a distinct address, so a port another device holds still fails with
 * EADDRINUSE. `refresh()` re-enumerates the interfaces (after FORCEIP, and on a timer) and opens or closes sockets
 * for addresses that came or went.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { type Ipv4Interface, interfaceFor, listIpv4Interfaces } from '@cam/net-utils';

const LIMITED_BROADCAST = '255.255.255.255';
/** Attempts to find a port free on every address when the caller asked for any port (0). */
const PORT_ATTEMPTS = 8;

/** One bound socket and what it is for. */
interface Bound {
  socket: Socket;
  /** The local address it is bound to. */
  address: string;
  /** Bound to a broadcast address: receives only, answers go out through a unicast socket. */
  broadcast: boolean;
}

export interface DeviceSocketsOptions {
  /** `0.0.0.0` (every interface) or one local IPv4 address. */
  bindAddress: string;
  /** 0 = any port free on every address. */
  port: number;
  /**
   * A datagram arrived on local address `local`; answer through `reply` (the socket bound to the address the host
   * reached, or for a broadcast, to the interface on the host's subnet).
   */
  onMessage(msg: Buffer, rinfo: RemoteInfo, reply: Socket, local: string): void;
  /** A send or receive error on any socket (counted by the device). */
  onError(error: Error): void;
  /** The device's current IP: answers to a host on no local subnet leave from it. */
  currentIp?: () => string;
  /** Interfaces to use (default: the host's, read on every refresh). For tests. */
  interfaces?: () => Ipv4Interface[];
}

/** The set of UDP sockets a device listens on (see the file comment). */
export class DeviceSockets {
  readonly #options: DeviceSocketsOptions;
  readonly #bound = new Map<string, Bound>();
  #port = 0;
  #closed = false;
  #refreshing: Promise<void> = Promise.resolve();
  /** The interfaces as last read (at open and on each refresh): a datagram never costs a system call. */
  #known: Ipv4Interface[] = [];

  private constructor(options: DeviceSocketsOptions) {
    this.#options = options;
  }

  /** Binds every socket; rejects (EADDRINUSE, EADDRNOTAVAIL, ...) when the first bind or any per-address bind fails. */
  static async open(options: DeviceSocketsOptions): Promise<DeviceSockets> {
    const set = new DeviceSockets(options);
    if (options.bindAddress !== '0.0.0.0') {
      const b = await set.#bind(options.bindAddress, options.port, false, false);
      set.#port = b.socket.address().port;
      return set;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await set.#bindAll(options.port);
        return set;
      } catch (error) {
        await set.close();
        set.#closed = false;
        // An any-port request may have been given a port another program holds on a second address: try another.
        if (options.port !== 0 || attempt >= PORT_ATTEMPTS || (error as { code?: string }).code !== 'EADDRINUSE')
          throw error;
      }
    }
  }

  /** True when bound to every interface (the per-address set). */
  get everyInterface(): boolean {
    return this.#options.bindAddress === '0.0.0.0';
  }

  /** The port every socket shares. */
  get port(): number {
    return this.#port;
  }

  /** The unicast addresses the device answers from, in interface order. */
  get addresses(): string[] {
    return [...this.#bound.values()].filter((b) => !b.broadcast).map((b) => b.address);
  }

  /**
   * The socket to send to `remote` from: the one bound to the address of the interface on `remote`'s subnet,
   * else the one bound to `preferred` (the device's current IP), else the first. Undefined once closed.
   */
  socketFor(remote: string, preferred = this.#options.currentIp?.()): Socket | undefined {
    const unicast = [...this.#bound.values()].filter((b) => !b.broadcast);
    if (unicast.length <= 1) return unicast[0]?.socket;
    const ifaces = this.#known.filter((i) => this.#bound.has(i.address));
    const local = interfaceFor(remote, ifaces)?.address;
    const pick = (local && this.#bound.get(local)) || (preferred && this.#bound.get(preferred)) || unicast[0];
    return pick?.socket;
  }

  /** The interface (as last read) that holds local address `address`. */
  interfaceOf(address: string): Ipv4Interface | undefined {
    return this.#known.find((i) => i.address === address);
  }

  /** The local address `socket` is bound to (the address a host reached), or undefined. */
  localAddressOf(socket: Socket): string | undefined {
    for (const b of this.#bound.values()) if (b.socket === socket) return b.address;
    return undefined;
  }

  /**
   * Re-reads the interfaces: binds sockets for new addresses, closes those whose address is gone. A no-op when
   * bound to one address. Concurrent calls run one after another. A bind that fails (a port taken on a new
   * address) is reported through `onError` and retried on the next refresh.
   */
  refresh(): Promise<void> {
    if (!this.everyInterface) return Promise.resolve();
    this.#refreshing = this.#refreshing
      .then(() => this.#refreshNow())
      .catch((e: unknown) => this.#options.onError(e as Error));
    return this.#refreshing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#bound.values()];
    this.#bound.clear();
    await Promise.all(all.map((b) => new Promise<void>((resolve) => b.socket.close(() => resolve()))));
  }

  /** Reads the interfaces again and returns the unicast and broadcast addresses to bind, in interface order. */
  #wanted(): Array<{ address: string; broadcast: boolean }> {
    this.#known = (this.#options.interfaces ?? listIpv4Interfaces)();
    const out = new Map<string, boolean>();
    for (const i of this.#known) if (!out.has(i.address)) out.set(i.address, false);
    out.set(LIMITED_BROADCAST, true);
    for (const i of this.#known) {
      // /31 and /32 subnets have no broadcast address; loopback gets none either.
      if (!i.internal && i.prefixLength < 31 && !out.has(i.broadcast)) out.set(i.broadcast, true);
    }
    return [...out].map(([address, broadcast]) => ({ address, broadcast }));
  }

  async #bindAll(port: number): Promise<void> {
    const wanted = this.#wanted();
    // The first unicast address takes the port (any port when 0); every other socket binds the same one.
    const first = wanted.find((w) => !w.broadcast) ?? { address: '127.0.0.1', broadcast: false };
    const b = await this.#bind(first.address, port, false, true);
    this.#port = b.socket.address().port;
    for (const w of wanted) if (w.address !== first.address) await this.#bind(w.address, this.#port, w.broadcast, true);
  }

  async #refreshNow(): Promise<void> {
    if (this.#closed) return;
    const wanted = this.#wanted();
    const keep = new Set(wanted.map((w) => w.address));
    for (const [address, b] of this.#bound) {
      if (keep.has(address)) continue;
      this.#bound.delete(address);
      await new Promise<void>((resolve) => b.socket.close(() => resolve()));
    }
    for (const w of wanted) {
      if (this.#closed) return;
      if (this.#bound.has(w.address)) continue;
      try {
        await this.#bind(w.address, this.#port, w.broadcast, true);
      } catch (error) {
        this.#options.onError(error as Error);
      }
    }
  }

  async #bind(address: string, port: number, broadcast: boolean, everyInterface: boolean): Promise<Bound> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        socket.close();
        reject(e);
      };
      socket.once('error', onError);
      socket.bind({ port, address, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    // Broadcast acks (to a host on another subnet) are only sent on a real or namespaced network, never bound to
    // one address such as loopback.
    if (everyInterface) socket.setBroadcast(true);
    const b: Bound = { socket, address, broadcast };
    socket.on('error', (e) => this.#options.onError(e));
    socket.on('message', (msg, rinfo) => {
      const reply = broadcast ? this.socketFor(rinfo.address) : socket;
      if (reply)
        this.#options.onMessage(msg, rinfo, reply, broadcast ? (this.localAddressOf(reply) ?? address) : address);
    });
    if (this.#closed) {
      socket.close();
      throw new Error('GvcpDevice is closed');
    }
    this.#bound.set(address, b);
    return b;
  }
}
