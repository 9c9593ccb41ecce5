import { encodeFrameMessage } from './protocol.js';

/** Where a session sends frames: one browser tab's WebSocket. */
export interface FrameSink {
  /** Sends a binary message. */
  send(data: Uint8Array): void;
  sendText(text: string): void;
}

/**
 * One browser's view of a stream: at most one frame in flight, the newest waiting one replaces an older one. `H` is
 * the frame header without `dropped`, which the client adds.
 */
export class FrameClient<H extends object> {
  inFlight = false;
  pending: { header: H; pixels: Uint8Array } | undefined;
  dropped = 0;
  constructor(readonly sink: FrameSink) {}

  offer(header: H, pixels: Uint8Array): void {
    if (this.pending) this.dropped++; // the browser never saw the older one
    this.pending = { header, pixels };
    this.flush();
  }

  /** The browser has shown the frame it had. */
  ack(): void {
    if (!this.inFlight) return; // an ack for nothing (a confused or hostile page) changes nothing
    this.inFlight = false;
    this.flush();
  }

  private flush(): void {
    if (this.inFlight || !this.pending) return;
    const { header, pixels } = this.pending;
    this.pending = undefined;
    this.inFlight = true;
    this.sink.send(encodeFrameMessage({ ...header, dropped: this.dropped }, pixels));
  }
}
