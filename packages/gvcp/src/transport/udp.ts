import { createSocket, type Socket } from 'node:dgram';

/** Binds a UDP4 socket; resolves once it listens. */
export function bindUdp(options: { address?: string; port?: number; reuseAddr?: boolean } = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: options.reuseAddr ?? false });
    const onError = (e: Error): void => {
      socket.close();
      reject(e);
    };
    socket.once('error', onError);
    socket.bind({ address: options.address ?? '0.0.0.0', port: options.port ?? 0, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Sends one datagram; resolves when the kernel took it. */
export function sendUdp(socket: Socket, bytes: Uint8Array, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(bytes, port, address, (e) => (e ? reject(e) : resolve()));
  });
}

/** Closes a socket, ignoring "not running". */
export function closeUdp(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

export type { RemoteInfo, Socket } from 'node:dgram';
