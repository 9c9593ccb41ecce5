import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { type FeatureDescription, NotWritableError } from '@cam/genicam';
import { type Camera, connectCamera } from '@cam/gvcp';
import { type GvspFrame, type GvspStream, openStream } from '@cam/gvsp';
import { applyWrites, planWrites } from '../features.js';
import { canDisplay, toDisplayImage } from '../image/convert.js';
import { Y4mWriter } from '../image/encode.js';
import { FrameClient, type FrameSink, SharedPixels } from './frame-client.js';
import type { FrameHeader, StatsMessage } from './protocol.js';

/** A feature as the browser's tree shows it. */
export interface FeatureView {
  readonly name: string;
  readonly displayName: string;
  readonly depth: number;
  readonly category: string | undefined;
  readonly interface: string;
  readonly access: string;
  readonly visibility: string;
  readonly unit?: string;
  readonly min?: string;
  readonly max?: string;
  readonly inc?: string;
  readonly description?: string;
  readonly entries?: readonly string[];
  readonly value?: string;
  readonly error?: string;
}

/** Options of a GigE Vision session. */
export interface GigeSessionOptions {
  port?: number;
  /** Directory recordings are written to. */
  recordDir: string;
  /** Largest stream packet to negotiate. */
  packetSize?: number;
}

const MAX_RECORD_BACKLOG = 64 * 1024 * 1024;

function text(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return String(v);
}

/**
 * A GigE Vision camera the viewer controls: control privilege, the GenICam node map, and the stream. Every frame the
 * receiver completes is counted and recorded (when asked); browsers get what they can keep up with.
 */
export class GigeSession {
  readonly kind = 'gige';
  private stream: GvspStream | undefined;
  private pump: Promise<void> | undefined;
  private stopPump: AbortController | undefined;
  private readonly clients = new Set<FrameClient<Omit<FrameHeader, 'dropped'>>>();
  private frames = 0;
  private recorder: { file: string; out: WriteStream; y4m: Y4mWriter; frames: number; skipped: number } | undefined;
  private lastError: string | undefined;
  private statsTimer: NodeJS.Timeout;
  /** Pixel buffers no client holds any more, reused for the next frames of the same size (no allocation per frame). */
  private spare: Uint8Array[] = [];

  private constructor(
    readonly id: string,
    readonly address: string,
    private readonly camera: Camera,
    private readonly options: GigeSessionOptions,
  ) {
    this.statsTimer = setInterval(() => this.broadcastStats(), 500);
    this.statsTimer.unref();
  }

  static async open(id: string, address: string, options: GigeSessionOptions): Promise<GigeSession> {
    const camera = await connectCamera(address, options.port === undefined ? {} : { port: options.port });
    const session = new GigeSession(id, address, camera, options);
    try {
      await session.start();
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }

  get streaming(): boolean {
    return this.stream !== undefined;
  }

  info(): Record<string, unknown> {
    return { id: this.id, kind: this.kind, address: this.address, streaming: this.streaming };
  }

  /** Opens the stream channel and starts acquisition. */
  async start(): Promise<void> {
    if (this.stream) return;
    const stream = await openStream(this.camera.client, {
      nodeMap: this.camera.nodeMap,
      gvcpPort: this.options.port ?? 3956,
      resend: true,
      ...(this.options.packetSize === undefined ? {} : { packetSize: this.options.packetSize }),
    });
    this.stream = stream;
    this.lastError = undefined;
    const stop = new AbortController();
    this.stopPump = stop;
    this.pump = this.run(stream, stop.signal);
    this.broadcastStats();
  }

  /** Stops acquisition and closes the stream channel. */
  async stop(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    this.stream = undefined;
    this.stopPump?.abort();
    await this.pump;
    await stream.close();
    this.broadcastStats();
  }

  private async run(stream: GvspStream, signal: AbortSignal): Promise<void> {
    try {
      for await (const f of stream.frames({ signal, timeoutMs: 3_600_000 })) {
        try {
          this.onFrame(f);
        } finally {
          f.release();
        }
      }
    } catch (e) {
      if (!signal.aborted) this.lastError = e instanceof Error ? e.message : String(e);
    }
  }

  private onFrame(f: GvspFrame): void {
    const completedAt = performance.timeOrigin + performance.now();
    this.frames++;
    if (f.status !== 'complete') return;
    this.record(f);
    if (this.clients.size === 0) return;
    const header = {
      frame: this.frames,
      blockId: f.blockId.toString(),
      width: f.width,
      height: f.height,
      pixelFormat: f.pixelFormatName,
      paddingX: f.paddingX,
      completedAt,
    };
    // one copy, shared by every client: the receiver gets its buffer back at once. The copy goes into a buffer no
    // client holds any more (a frame that waited and was replaced, or one written to the sockets)
    const pixels = new SharedPixels(this.takeBuffer(f.image), (b) => this.giveBack(b));
    pixels.retain(); // until every client has it
    for (const c of this.clients) c.offer(header, pixels);
    pixels.release();
  }

  private takeBuffer(image: Uint8Array): Uint8Array {
    let b = this.spare.pop();
    while (b && b.byteLength !== image.byteLength) b = this.spare.pop();
    if (!b) return image.slice();
    b.set(image);
    return b;
  }

  private giveBack(b: Uint8Array): void {
    // a few are enough: one waiting per client and one in each socket
    if (this.spare.length < 4) this.spare.push(b);
  }

  private record(f: GvspFrame): void {
    const r = this.recorder;
    if (!r) return;
    if (r.out.writableLength > MAX_RECORD_BACKLOG || !canDisplay(f.pixelFormatName)) {
      r.skipped++;
      return;
    }
    try {
      const parts = r.y4m.frame(
        toDisplayImage({
          width: f.width,
          height: f.height,
          pixelFormat: f.pixelFormatName,
          data: f.image,
          paddingX: f.paddingX,
        }),
      );
      for (const p of parts) r.out.write(p === f.image ? Buffer.from(p) : p);
      r.frames++;
    } catch (e) {
      this.lastError = `recording: ${e instanceof Error ? e.message : String(e)}`;
      r.skipped++;
    }
  }

  /** Starts writing every complete frame to a YUV4MPEG2 file in the record directory; returns its path. */
  startRecording(): string {
    if (this.recorder) return this.recorder.file;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(this.options.recordDir, `cam-view-${this.address}-${stamp}.y4m`);
    const out = createWriteStream(file);
    out.on('error', (e) => {
      this.lastError = `recording: ${e.message}`;
    });
    this.recorder = { file, out, y4m: new Y4mWriter(30), frames: 0, skipped: 0 };
    this.broadcastStats();
    return file;
  }

  /** Stops recording; resolves with the file and how many frames it holds. */
  async stopRecording(): Promise<{ file: string; frames: number; skipped: number } | undefined> {
    const r = this.recorder;
    if (!r) return undefined;
    this.recorder = undefined;
    await new Promise<void>((resolve) => r.out.end(resolve));
    this.broadcastStats();
    return { file: r.file, frames: r.frames, skipped: r.skipped };
  }

  attach(sink: FrameSink): { ack(): void; detach(): void } {
    const client = new FrameClient<Omit<FrameHeader, 'dropped'>>(sink);
    this.clients.add(client);
    sink.sendText(JSON.stringify(this.statsFor(client)));
    return {
      ack: () => client.ack(),
      detach: () => {
        this.clients.delete(client);
        client.detach();
      },
    };
  }

  private statsFor(client: FrameClient<object>): StatsMessage {
    const s = this.stream?.stats();
    return {
      type: 'stats',
      frameRate: s?.frameRate ?? 0,
      bytesPerSecond: s?.bytesPerSecond ?? 0,
      completedFrames: s?.completedFrames ?? 0,
      failures: s?.failures ?? 0,
      missingPackets: s?.missingPackets ?? 0,
      resentPackets: s?.resentPackets ?? 0,
      dropped: client.dropped,
      recording: this.recorder?.file,
      error: this.lastError,
    };
  }

  private broadcastStats(): void {
    for (const c of this.clients) c.sink.sendText(JSON.stringify(this.statsFor(c)));
  }

  /** Receiver statistics (for the API and tests). */
  stats(): Record<string, unknown> {
    return { frames: this.frames, streaming: this.streaming, ...(this.stream?.stats() ?? {}) };
  }

  /** The feature tree: every feature of the category walk with what the editor needs. */
  async features(): Promise<FeatureView[]> {
    const map = this.camera.nodeMap;
    const out: FeatureView[] = [];
    for (const e of map.features()) {
      try {
        const d: FeatureDescription = await map.describe(e.name);
        out.push({
          name: e.name,
          displayName: d.displayName,
          depth: e.depth,
          category: e.category,
          interface: d.interface,
          access: d.access,
          visibility: d.visibility,
          ...(d.unit ? { unit: d.unit } : {}),
          ...(d.min === undefined ? {} : { min: String(d.min) }),
          ...(d.max === undefined ? {} : { max: String(d.max) }),
          ...(d.inc === undefined ? {} : { inc: String(d.inc) }),
          ...(d.description || d.toolTip ? { description: d.description ?? d.toolTip } : {}),
          ...(d.entries ? { entries: d.entries.map((en) => en.name) } : {}),
          ...(d.value === undefined || e.type === 'Category' ? {} : { value: text(d.value) ?? '' }),
        });
      } catch (err) {
        out.push({
          name: e.name,
          displayName: e.name,
          depth: e.depth,
          category: e.category,
          interface: e.interface,
          access: 'NA',
          visibility: e.visibility,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return out;
  }

  /** Reads one feature's value as text. */
  async read(name: string): Promise<string | undefined> {
    return text(await this.camera.nodeMap.get(name));
  }

  /**
   * Writes a feature from its text (checked against the camera's current range first). A feature the camera locks
   * while streaming (Width, PixelFormat, ...) is written with the stream stopped, and the stream restarted with the
   * new payload size.
   */
  async write(name: string, value: string): Promise<string | undefined> {
    const map = this.camera.nodeMap;
    const once = async (): Promise<void> => {
      await applyWrites(map, await planWrites(map, [{ feature: name, text: value }]));
    };
    try {
      await once();
    } catch (e) {
      if (!(e instanceof NotWritableError) || !this.stream) throw e;
      await this.stop();
      try {
        await once();
      } finally {
        await this.start();
      }
    }
    return this.read(name);
  }

  /** Runs a command feature. AcquisitionStart/Stop start and stop the viewer's stream (it owns the channel). */
  async execute(name: string): Promise<void> {
    if (name === 'AcquisitionStart') return this.start();
    if (name === 'AcquisitionStop') return this.stop();
    await this.camera.nodeMap.execute(name);
  }

  async close(): Promise<void> {
    clearInterval(this.statsTimer);
    await this.stopRecording();
    await this.stop().catch(() => {});
    await this.camera.client.releaseControl().catch(() => {});
    await this.camera.close();
  }
}
