import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { PortPoolExhaustedError } from './errors.js';

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

/**
 * Hands out free TCP or UDP ports from a configured range, bound, and takes them back. A port in use by another
 * process is skipped; ports are tried round-robin so a just-released port is not reused at once (avoiding a
 * late packet of the old stream reaching the new one).
 */
export class PortPool {
  readonly min: number;
  readonly max: number;
  readonly host: string;
  private readonly leased = new Set<number>();
  private cursor: number;

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

  /** Ports currently leased. */
  get inUse(): number {
    return this.leased.size;
  }

  /** Ports not leased by this pool (some may still be taken by other processes). */
  get available(): number {
    return this.size - this.leased.size;
  }

  /** A listening TCP server on a free port of the range. */
  acquireTcp(options: { host?: string; backlog?: number } = {}): Promise<PortLease<Server>> {
    const host = options.host ?? this.host;
    return this.acquire('tcp', host, (port) => listenTcp(port, host, options.backlog));
  }

  /** A bound UDP socket on a free port of the range. */
  acquireUdp(options: { host?: string } = {}): Promise<PortLease<UdpSocket>> {
    const host = options.host ?? this.host;
    return this.acquire('udp', host, (port) => bindUdp(port, host));
  }

  private async acquire<T extends Server | UdpSocket>(
    protocol: 'tcp' | 'udp',
    host: string,
    bind: (port: number) => Promise<T>,
  ): Promise<PortLease<T>> {
    for (let tried = 0; tried < this.size; tried++) {
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
      let released = false;
      const release = async (): Promise<void> => {
        if (released) return;
        released = true;
        await closeHandle(handle);
        this.leased.delete(port);
      };
      return { port, host, handle, release, [Symbol.asyncDispose]: release };
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
    socket.once('error', (e) => {
      socket.close();
      reject(e);
    });
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

function closeHandle(handle: Server | UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    if ('listening' in handle && typeof (handle as Server).getConnections === 'function') {
      const server = handle as Server;
      if (!server.listening) return resolve();
      server.close(() => resolve());
      return;
    }
    try {
      (handle as UdpSocket).close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
