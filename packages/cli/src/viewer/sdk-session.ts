import { FileType, LedClient, SDK_PORT, SdkClient } from '@cam/sdk-tcp';

/** Largest file the viewer takes from a browser to upload (the controllers' own media limits are lower). */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;
/** Uploads remembered for their progress (the oldest finished ones are forgotten first). */
const MAX_JOBS = 32;

/** An upload to the controller, as the browser polls it. */
export interface UploadJob {
  readonly id: number;
  readonly name: string;
  sent: number;
  total: number;
  resumedFrom: number;
  done: boolean;
  error: string | undefined;
}

/**
 * A Huidu LED controller (SDK over TCP): device information, the file list, and uploads whose progress the browser
 * polls. One short connection per call: a controller keeps few sessions and drops idle ones.
 */
export class SdkSession {
  readonly kind = 'sdk';
  private readonly jobs = new Map<number, UploadJob>();
  private nextJob = 1;
  private readonly running = new Set<Promise<void>>();

  private constructor(
    readonly id: string,
    readonly address: string,
    private readonly port: number,
  ) {}

  static async open(id: string, address: string, options: { port?: number } = {}): Promise<SdkSession> {
    const s = new SdkSession(id, address, options.port ?? SDK_PORT);
    await s.deviceInfo(); // reachable and speaking the protocol
    return s;
  }

  private async with<T>(fn: (sdk: SdkClient) => Promise<T>): Promise<T> {
    const sdk = await SdkClient.connect(this.address, { port: this.port, timeoutMs: 10_000, defaultTimeoutMs: 30_000 });
    try {
      return await fn(sdk);
    } finally {
      await sdk.close().catch(() => sdk.destroy());
    }
  }

  /** GetDeviceInfo. */
  async deviceInfo(): Promise<Record<string, unknown>> {
    return this.with(async (sdk) => ({ ...(await LedClient.over(sdk).deviceInfo()) }));
  }

  async files(): Promise<Record<string, unknown>[]> {
    return this.with(async (sdk) => (await LedClient.over(sdk).files()).map((f) => ({ ...f })));
  }

  /** Starts uploading `bytes` as `name`; the job's progress is read with {@link job}. */
  upload(name: string, type: string, bytes: Uint8Array): UploadJob {
    if (!/^[A-Za-z0-9_. -]{1,100}$/.test(name) || name.startsWith('.'))
      throw new TypeError(`file name "${name.slice(0, 120)}" is not 1..100 of A-Z a-z 0-9 _ . - and space`);
    if (!(type in FileType))
      throw new TypeError(`file type "${type}" is not one of ${Object.keys(FileType).join(', ')}`);
    const job: UploadJob = {
      id: this.nextJob++,
      name,
      sent: 0,
      total: bytes.byteLength,
      resumedFrom: 0,
      done: false,
      error: undefined,
    };
    this.jobs.set(job.id, job);
    for (const [id, j] of this.jobs) {
      if (this.jobs.size <= MAX_JOBS) break;
      if (j.done) this.jobs.delete(id);
    }
    const run = this.with((sdk) =>
      sdk.upload(bytes, {
        name,
        type: type as keyof typeof FileType,
        onProgress: (p) => {
          job.sent = p.sent;
          job.total = p.total;
          job.resumedFrom = p.resumedFrom;
        },
      }),
    ).then(
      (r) => {
        job.sent = r.size;
        job.done = true;
      },
      (e: unknown) => {
        job.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        job.done = true;
      },
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return job;
  }

  job(id: number): UploadJob | undefined {
    return this.jobs.get(id);
  }

  info(): Record<string, unknown> {
    return { id: this.id, kind: this.kind, address: this.address, streaming: false };
  }

  stats(): Record<string, unknown> {
    return { uploads: [...this.jobs.values()] };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
