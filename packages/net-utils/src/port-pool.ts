import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, Server } from 'node:net';
import { throwIfAborted } from './abort.js';
import { AbortError, PortPoolExhaustedError } from './errors.js';

/** Settings of a {@link PortPool}. */
export interface PortPoolOptions {
  /** Lowest port of the range (inclusive). */
  min: number;
  /** Highest port of the range (inclusive). */
  max: number;
  /** Address to bind. Default `0.0.0.0`. */
  host?: string;
}

/** A port handed out by a {@link PortPool}, already bound; give it back with `release()` (or `using`). */
export interface PortLease<T> extends AsyncDisposable {
  readonly port: number;
  readonly host: string;
  /** The bound TCP server (listening) or UDP socket. */
  readonly handle: T;
  /** Closes the handle (if still open) and returns the port to the pool. Idempotent. */
  release(): Promise<void>;
}

/** Options of {@link PortPool.acquireTcp} and {@link PortPool.acquireUdp}. */
export interface AcquireOptions {
  /** Address to bind instead of the pool's. */
  host?: string;
  /** Stops trying further ports; the acquisition rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Hands out free TCP or UDP ports from a configured range, bound, and takes them back. A port in use by another
 * process is skipped; ports are tried round-robin so a just-released port is not reused at once (avoiding a
 * late packet of the old stream reaching the new one). `close()` releases every outstanding lease.
 */
export class PortPool implements AsyncDisposable {
  readonly min: number;
  readonly max: number;
  readonly host: string;
  private readonly leased = new Set<number>();
  private readonly leases = new Set<PortLease<Server | UdpSocket>>();
  private cursor: number;
  private closed = false;

  constructor(options: PortPoolOptions) {
    const { min, max } = options;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new RangeError(`invalid port range ${min}-${max}`);
    }
    this.min = min;
    this.max = max;
    this.host = options.host ?? '0.0.0.0';
    this.cursor = min;
  }

  /** Size of the range. */
  get size(): number {
    return this.max - this.min + 1;
  }

  /** Ports currently leased (including ones being bound). */
  get inUse(): number {
    return this.leased.size;
  }

  /** Ports not leased by this pool (some may still be taken by other processes). */
  get available(): number {
    return this.size - this.leased.size;
  }

  /**
   * A listening TCP server on a free port of the range. Releasing it stops listening and frees the port at once;
   * connections it already accepted stay open (close them yourself).
   */
  acquireTcp(options: AcquireOptions & { backlog?: number } = {}): Promise<PortLease<Server>> {
    const host = options.host ?? this.host;
    return this.acquire('tcp', host, options.signal, (port) => listenTcp(port, host, options.backlog));
  }

  /** A bound UDP socket on a free port of the range. */
  acquireUdp(options: AcquireOptions = {}): Promise<PortLease<UdpSocket>> {
    const host = options.host ?? this.host;
    return this.acquire('udp', host, options.signal, (port) => bindUdp(port, host));
  }

  /** Releases every outstanding lease; later acquisitions reject with an {@link AbortError}. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.leases].map((l) => l.release()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async acquire<T extends Server | UdpSocket>(
    protocol: 'tcp' | 'udp',
    host: string,
    signal: AbortSignal | undefined,
    bind: (port: number) => Promise<T>,
  ): Promise<PortLease<T>> {
    for (let tried = 0; tried < this.size; tried++) {
      if (this.closed) throw new AbortError('the port pool is closed');
      throwIfAborted(signal);
      const port = this.cursor;
      this.cursor = port === this.max ? this.min : port + 1;
      if (this.leased.has(port)) continue;
      this.leased.add(port);
      let handle: T;
      try {
        handle = await bind(port);
      } catch (error) {
        this.leased.delete(port);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') continue;
        throw error;
      }
      if (this.closed || signal?.aborted) {
        await closeHandle(handle);
        this.leased.delete(port);
        if (this.closed) throw new AbortError('the port pool is closed');
        throwIfAborted(signal);
      }
      let releasing: Promise<void> | undefined;
      const lease: PortLease<T> = {
        port,
        host,
        handle,
        release: () => {
          releasing ??= closeHandle(handle).then(() => {
            this.leased.delete(port);
            this.leases.delete(lease);
          });
          return releasing;
        },
        [Symbol.asyncDispose]: () => lease.release(),
      };
      this.leases.add(lease);
      return lease;
    }
    throw new PortPoolExhaustedError(this.min, this.max, protocol);
  }
}

function listenTcp(port: number, host: string, backlog?: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, backlog, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function bindUdp(port: number, host: string): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    const onError = (e: Error): void => {
      socket.close();
      reject(e);
    };
    socket.once('error', onError);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function closeHandle(handle: Server | UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    if (handle instanceof Server) {
      if (!handle.listening) return resolve();
      // close() frees the listening port at once, but its callback waits for accepted connections to end;
      // release must not hang on those.
      handle.close(() => resolve());
      handle.getConnections((error, count) => {
        if (error || count > 0) resolve();
      });
      return;
    }
    try {
      handle.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
