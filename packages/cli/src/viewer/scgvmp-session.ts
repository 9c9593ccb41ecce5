import { GVCP_PORT, GvcpClient } from '@cam/gvcp';
import { payloadKindName, type ScGvmpStream, startStream } from '@cam/sc-gvmp';
import { FrameClient, type FrameSink } from './frame-client.js';
import type { ScGvmpFrameHeader, ScGvmpStatsMessage } from './protocol.js';

type Header = Omit<ScGvmpFrameHeader, 'dropped'>;

/** Frame rate over this window of completion times. */
const RATE_WINDOW_MS = 2000;

/**
 * A smart camera (SC_GVMP) the viewer streams from: control over GVCP, the TCP image channel, and its frames passed
 * on as they are (the browser decodes JPEG itself). The host reconnects and restarts as the package does; the view
 * shows how often.
 */
export class ScGvmpSession {
  readonly kind = 'scgvmp';
  private readonly clients = new Set<FrameClient<Header>>();
  private readonly stop = new AbortController();
  private readonly pump: Promise<void>;
  private readonly times: number[] = [];
  private frames = 0;
  private lastError: string | undefined;
  private readonly statsTimer: NodeJS.Timeout;

  private constructor(
    readonly id: string,
    readonly address: string,
    private readonly client: GvcpClient,
    private readonly stream: ScGvmpStream,
  ) {
    stream.on('disconnect', (d) => {
      if (d.error) this.lastError = `${d.error.name}: ${d.error.message}`;
    });
    stream.on('warning', (e) => {
      this.lastError = `${e.name}: ${e.message}`;
    });
    this.pump = this.run();
    this.statsTimer = setInterval(() => this.broadcastStats(), 500);
    this.statsTimer.unref();
  }

  static async open(id: string, address: string, options: { port?: number } = {}): Promise<ScGvmpSession> {
    const client = await GvcpClient.connect(address, { port: options.port ?? GVCP_PORT });
    try {
      await client.takeControl();
      const stream = await startStream(client, { timeoutMs: 10_000 });
      return new ScGvmpSession(id, address, client, stream);
    } catch (e) {
      await client.releaseControl().catch(() => {});
      await client.close();
      throw e;
    }
  }

  info(): Record<string, unknown> {
    return { id: this.id, kind: this.kind, address: this.address, streaming: this.stream.state === 'Streaming' };
  }

  private async run(): Promise<void> {
    try {
      for await (const f of this.stream.frames({ signal: this.stop.signal })) {
        try {
          const completedAt = performance.timeOrigin + performance.now();
          this.frames++;
          this.times.push(completedAt);
          while ((this.times[0] ?? completedAt) < completedAt - RATE_WINDOW_MS) this.times.shift();
          if (this.clients.size === 0) continue;
          const header: Header = {
            frame: this.frames,
            seq: f.seq,
            kind: payloadKindName(f.kind) ?? String(f.kind),
            completedAt,
          };
          const payload = f.payload.slice(); // the host's buffer goes back at once
          for (const c of this.clients) c.offer(header, payload);
        } finally {
          f.release();
        }
      }
    } catch (e) {
      if (!this.stop.signal.aborted) this.lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }

  private frameRate(): number {
    const now = performance.timeOrigin + performance.now();
    const recent = this.times.filter((t) => t >= now - RATE_WINDOW_MS);
    if (recent.length < 2) return 0;
    return ((recent.length - 1) * 1000) / ((recent.at(-1) as number) - (recent[0] as number));
  }

  private statsFor(client: FrameClient<Header>): ScGvmpStatsMessage {
    const s = this.stream.stats;
    return {
      type: 'stats',
      frameRate: this.frameRate(),
      framesReceived: s.framesReceived,
      bytesReceived: s.bytesReceived,
      framesMissing: s.framesMissing,
      reconnects: Math.max(0, s.connections - 1),
      restarts: s.restarts,
      state: this.stream.state ?? 'unknown',
      dropped: client.dropped,
      error: this.lastError,
    };
  }

  private broadcastStats(): void {
    for (const c of this.clients) c.sink.sendText(JSON.stringify(this.statsFor(c)));
  }

  stats(): Record<string, unknown> {
    return { frames: this.frames, state: this.stream.state, ...this.stream.stats };
  }

  attach(sink: FrameSink): { ack(): void; detach(): void } {
    const client = new FrameClient<Header>(sink);
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

  async close(): Promise<void> {
    clearInterval(this.statsTimer);
    this.stop.abort();
    await this.pump;
    await this.stream.stop({ timeoutMs: 5000 }).catch(() => {});
    await this.stream.close().catch(() => {});
    await this.client.releaseControl().catch(() => {});
    await this.client.close();
  }
}
