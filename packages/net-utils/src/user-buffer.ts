import { Socket } from 'node:net';

/** Where an adopted connection reads to (Node's `onread`). */
export interface UserBufferReads {
  /**
   * The memory the next read goes into: one reused buffer, or a function asked before every read (it may return a
   * view of a frame being assembled, so the kernel copies straight into it). A read fills at most the view.
   */
  buffer: Uint8Array | (() => Uint8Array);
  /**
   * Called after every read with the byte count and the buffer the bytes went to (its first `n` bytes; valid only
   * until the next read when the buffer is reused). Return false to pause the socket; `socket.resume()` restarts.
   */
  callback: (n: number, buffer: Uint8Array) => boolean;
}

/**
 * Reads an accepted TCP connection into caller-given memory instead of a new Buffer per read. `net.Server` has no
 * option for that on the sockets it accepts (only `net.connect` takes `onread`), so this moves the connection's
 * handle to a new `Socket` built with `onread`, and destroys the accepted one (which also ends its count in the
 * server's connections: closing the server does not wait for the new socket; destroy it yourself).
 *
 * The accepted socket must still be paused and unread (`createServer({ pauseOnConnect: true })`). Returns undefined,
 * leaving it untouched, when that is not the case or this Node does not expose the handle: fall back to the
 * `data` events then. The new socket is paused; attach listeners, then `resume()` it.
 */
export function readIntoUserBuffer(accepted: Socket, reads: UserBufferReads): Socket | undefined {
  const inner = accepted as unknown as { _handle?: object | null };
  const handle = inner._handle;
  if (typeof handle !== 'object' || handle === null || accepted.readableFlowing === true) return undefined;
  if (accepted.bytesRead !== 0 || accepted.destroyed) return undefined;
  let socket: Socket;
  try {
    socket = new Socket({
      handle,
      readable: true,
      writable: true,
      onread: { buffer: reads.buffer, callback: reads.callback },
    } as ConstructorParameters<typeof Socket>[0]);
  } catch {
    return undefined;
  }
  inner._handle = null;
  accepted.destroy();
  socket.pause();
  return socket;
}
