import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * Where a command writes media (frames, an H.264 or PS stream, MJPEG): a file, or stdout for `-o -` so it can be
 * piped into `ffplay -` / `ffprobe -`. Writes wait for the reader (backpressure); a reader that goes away (EPIPE)
 * ends the output quietly: `readerGone` turns true, `write` resolves false, and the command stops cleanly.
 */
export interface MediaOutput {
  /** True when the media goes to stdout: human output must then go to stderr. */
  readonly toStdout: boolean;
  /** The file name, or `-`. */
  readonly target: string;
  /** Bytes written so far. */
  readonly bytes: number;
  /** The reader of stdout closed the pipe (the player quit). */
  readonly readerGone: boolean;
  /** Writes one chunk; resolves false when nobody reads any more. */
  write(chunk: Uint8Array): Promise<boolean>;
  /** Flushes and closes (stdout is left open). */
  close(): Promise<void>;
}

/** Opens `target` for media: `-` is stdout, anything else a file (created or truncated). */
export function openMediaOutput(target: string): MediaOutput {
  return target === '-' ? new StdoutOutput() : new FileOutput(target);
}

/** The stream human-readable lines go to: stderr when media takes stdout, else stdout. */
export function textStream(media: MediaOutput | undefined): NodeJS.WritableStream {
  return media?.toStdout ? process.stderr : process.stdout;
}

class StdoutOutput implements MediaOutput {
  readonly toStdout = true;
  readonly target = '-';
  bytes = 0;
  readerGone = false;
  private readonly onError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') this.readerGone = true;
    else throw e;
  };

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    out.on('error', this.onError);
  }

  write(chunk: Uint8Array): Promise<boolean> {
    if (this.readerGone) return Promise.resolve(false);
    return new Promise((resolve) => {
      let ok: boolean;
      try {
        ok = this.out.write(chunk, (err) => {
          if (err) this.readerGone = true;
        });
      } catch {
        this.readerGone = true;
        resolve(false);
        return;
      }
      this.bytes += chunk.byteLength;
      if (ok) {
        resolve(true);
        return;
      }
      const done = (): void => {
        this.out.off('drain', done);
        this.out.off('close', done);
        this.out.off('error', done);
        resolve(!this.readerGone);
      };
      this.out.once('drain', done);
      this.out.once('close', done);
      this.out.once('error', done);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.readerGone || this.out.writableLength === 0) {
        this.out.off('error', this.onError);
        resolve();
        return;
      }
      this.out.write('', () => {
        this.out.off('error', this.onError);
        resolve();
      });
    });
  }
}

class FileOutput implements MediaOutput {
  readonly toStdout = false;
  bytes = 0;
  readonly readerGone = false;
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(readonly target: string) {
    this.stream = createWriteStream(target);
    this.stream.on('error', (e) => {
      this.failure = e;
    });
  }

  write(chunk: Uint8Array): Promise<boolean> {
    if (this.failure) return Promise.reject(this.failure);
    this.bytes += chunk.byteLength;
    if (this.stream.write(chunk)) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        if (this.failure) reject(this.failure);
        else resolve(true);
      };
      this.stream.once('drain', done);
      this.stream.once('error', done);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.stream.end(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }
}
