import type { Duplex } from 'node:stream';
import { abortReason } from './abort.js';
import type { LengthFramer } from './framer.js';

/** Options of {@link readFrames}. */
export interface ReadFramesOptions {
  /**
   * Most bytes of complete frames held for a slow consumer before the socket is paused (TCP backpressure then
   * slows the peer; nothing is dropped). Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /** Ends the iteration with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Whole frames from a socket as an async iterable. A framing error (bad header, frame too large, stream ended
 * mid-frame) destroys the socket and is thrown from the iterator; a clean end of stream ends the iteration.
 */
export async function* readFrames(
  socket: Duplex,
  framer: LengthFramer,
  options: ReadFramesOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const queue: Uint8Array[] = [];
  let head = 0;
  let queuedBytes = 0;
  let failure: Error | null = null;
  let ended = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onData = (chunk: Uint8Array): void => {
    try {
      const before = queue.length;
      framer.pushTo(chunk, queue);
      for (let i = before; i < queue.length; i++) queuedBytes += queue[i]!.byteLength;
    } catch (error) {
      failure = error as Error;
      socket.destroy();
    }
    if (queuedBytes > maxBuffered) socket.pause();
    notify();
  };
  const onEnd = (): void => {
    if (!failure) {
      try {
        framer.end();
      } catch (error) {
        failure = error as Error;
      }
    }
    ended = true;
    notify();
  };
  const onError = (error: Error): void => {
    failure ??= error;
    notify();
  };
  const onAbort = (): void => {
    failure ??= abortReason(options.signal!);
    socket.destroy();
    notify();
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
  socket.on('error', onError);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    for (;;) {
      if (head < queue.length) {
        const frame = queue[head]!;
        queue[head++] = EMPTY;
        queuedBytes -= frame.byteLength;
        if (head > 1024 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        if (queuedBytes <= maxBuffered / 2 && socket.isPaused()) socket.resume();
        yield frame;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      if (socket.isPaused()) socket.resume();
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    socket.off('error', onError);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

const EMPTY = new Uint8Array(0);
