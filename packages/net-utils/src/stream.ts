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
 * Whole frames from a socket as an async iterable, with backpressure: complete frames wait in a queue for the
 * consumer; above `maxBufferedBytes` queued the socket is paused (TCP flow control then slows the peer; nothing is
 * dropped) and it is resumed once the consumer has drained half of it.
 *
 * A framing error (bad header, frame too large, stream ended mid-frame) destroys the socket; the frames completed
 * before it are still yielded, then the iterator throws the typed error. A socket error is thrown the same way.
 * An abort destroys the socket and throws the signal's reason at once (queued frames are dropped). A clean end of
 * stream (`end` or `close` between frames) ends the iteration.
 *
 * Leaving the loop early (`break`) keeps the socket open and pauses it, so no data is lost: the framer still holds
 * any partial frame and a later `readFrames` with the same framer continues; frames already queued but not yet
 * yielded are dropped.
 */
export async function* readFrames(
  socket: Duplex,
  framer: LengthFramer,
  options: ReadFramesOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const { signal } = options;
  const queue: Uint8Array[] = [];
  let head = 0;
  let queuedBytes = 0;
  let failure: Error | null = null;
  let aborted: Error | null = null;
  let ended = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onData = (chunk: Uint8Array): void => {
    if (failure || aborted) return;
    const before = queue.length;
    try {
      framer.pushTo(chunk, queue);
    } catch (error) {
      failure = error as Error;
      socket.destroy();
    }
    for (let i = before; i < queue.length; i++) queuedBytes += queue[i]!.byteLength;
    if (queuedBytes > maxBuffered && !socket.destroyed) socket.pause();
    notify();
  };
  const onEnd = (): void => {
    if (ended) return;
    ended = true;
    if (!failure && !aborted) {
      try {
        framer.end();
      } catch (error) {
        failure = error as Error;
      }
    }
    notify();
  };
  const onError = (error: Error): void => {
    failure ??= error;
    notify();
  };
  const onAbort = (): void => {
    aborted ??= abortReason(signal!);
    socket.destroy();
    notify();
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onEnd);
  socket.on('error', onError);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  else if (socket.readableEnded || socket.destroyed) {
    // Already over: neither `end` nor `close` may come again.
    const errored = (socket as { errored?: unknown }).errored;
    if (errored instanceof Error) failure = errored;
    onEnd();
  }
  try {
    for (;;) {
      if (aborted) throw aborted;
      if (head < queue.length) {
        const frame = queue[head]!;
        queue[head++] = EMPTY;
        queuedBytes -= frame.byteLength;
        if (head === queue.length) {
          queue.length = 0;
          head = 0;
        } else if (head > 1024 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        if (queuedBytes <= maxBuffered / 2 && socket.isPaused() && !ended) socket.resume();
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
    wake = null;
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    socket.off('error', onError);
    signal?.removeEventListener('abort', onAbort);
    // Without a 'data' listener a flowing socket would drop what it reads; keep it for the next reader.
    if (!socket.destroyed && !socket.readableEnded) socket.pause();
  }
}

const EMPTY = new Uint8Array(0);
