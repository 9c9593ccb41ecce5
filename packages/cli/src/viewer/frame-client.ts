import { encodeFrameHeader } from './protocol.js';

/** Where a session sends frames: one browser tab's WebSocket. */
export interface FrameSink {
  /**
   * Sends one binary message made of `parts` in order (the header, then the pixels: no copy joins them). `done` is
   * called once the parts are no longer needed (written to the socket, or dropped).
   */
  send(parts: readonly Uint8Array[], done: () => void): void;
  sendText(text: string): void;
}

/**
 * Pixel bytes shared by every client a frame is offered to, counted so their buffer can be reused once no client
 * holds it (waiting, or in a socket's write queue).
 */
export class SharedPixels {
  private refs = 0;
  constructor(
    readonly bytes: Uint8Array,
    private readonly free: (bytes: Uint8Array) => void = () => {},
  ) {}
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0) this.free(this.bytes);
  }
}

/**
 * One browser's view of a stream: at most one frame in flight, the newest waiting one replaces an older one. `H` is
 * the frame header without `dropped`, which the client adds.
 */
export class FrameClient<H extends object> {
  inFlight = false;
  pending: { header: H; pixels: SharedPixels } | undefined;
  dropped = 0;
  constructor(readonly sink: FrameSink) {}

  /** Whether a frame offered now would be sent at once (else it waits, replacing any older waiting one). */
  get ready(): boolean {
    return !this.inFlight;
  }

  offer(header: H, pixels: SharedPixels | Uint8Array): void {
    const shared = pixels instanceof SharedPixels ? pixels : new SharedPixels(pixels);
    shared.retain();
    if (this.pending) {
      this.dropped++; // the browser never saw the older one
      this.pending.pixels.release();
    }
    this.pending = { header, pixels: shared };
    this.flush();
  }

  /** The browser has shown the frame it had. */
  ack(): void {
    if (!this.inFlight) return; // an ack for nothing (a confused or hostile page) changes nothing
    this.inFlight = false;
    this.flush();
  }

  /** The browser is gone: give back what waits. */
  detach(): void {
    this.pending?.pixels.release();
    this.pending = undefined;
  }

  private flush(): void {
    if (this.inFlight || !this.pending) return;
    const { header, pixels } = this.pending;
    this.pending = undefined;
    this.inFlight = true;
    let released = false;
    this.sink.send([encodeFrameHeader({ ...header, dropped: this.dropped }), pixels.bytes], () => {
      if (released) return;
      released = true;
      pixels.release();
    });
  }
}
