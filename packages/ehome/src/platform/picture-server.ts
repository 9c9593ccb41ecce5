import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';
import { ID_PATTERN } from '../codec/index.js';
import type { StoredMedia } from './events.js';

/** Paths devices upload to (seed 002 c: pictures and videos are uploaded apart from the alarm signal). */
export const PICTURE_UPLOAD_PATH = '/ehome/pictures';
export const VIDEO_UPLOAD_PATH = '/ehome/videos';

/** Settings of the picture server. */
export interface PictureServerOptions {
  /** Directory files are stored in (created if needed). */
  directory: string;
  address?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Largest picture accepted. Default 4 MiB. */
  maxPictureBytes?: number;
  /** Largest video accepted. Default 64 MiB. */
  maxVideoBytes?: number;
  /** Bytes this server may write in total before refusing uploads (507). Default 1 GiB. */
  maxTotalBytes?: number;
  /** Uploads in progress at once before refusing with 503. Default 64. */
  maxConcurrentUploads?: number;
  /** Uploads in progress at once from one source address before refusing it with 503. Default 8. */
  maxUploadsPerSource?: number;
  /** Open connections from one source address; more are closed at once. Default 32. */
  maxConnectionsPerSource?: number;
  /** Open connections in total; more are closed at once. Default 1024. */
  maxConnections?: number;
  /**
   * Slowest upload tolerated, in bytes per second averaged from the start of the body after `uploadGraceMs`: a
   * slower one is cut (408) and its connection closed, so slow senders cannot hold the upload slots. Default 4096.
   */
  minUploadBytesPerSecond?: number;
  /** Time an upload may take before the minimum rate applies. Default 5000 ms. */
  uploadGraceMs?: number;
  /** Whether `deviceId` uploading from `address` may store a file (the platform checks its sessions). */
  authorize: (deviceId: string, address: string) => boolean;
  /**
   * Called for every stored file before the upload is answered: the device gets its 200 only once this resolves
   * (the platform commits the picture's record first). A rejection is answered 503 and the file removed.
   */
  onStored: (media: StoredMedia) => void | Promise<void>;
  /** Called for every refused upload. */
  onRefused?: (address: string, port: number, status: number, reason: string) => void;
}

/**
 * A file-name form of a DeviceID or PicID that is injective (two IDs never share a name: `..`, `%2e%2e` once
 * URL-decoded, `a.b:c@d` and `a_b_c_d` all stay apart) and safe on any file system: `[A-Za-z0-9_-]` kept, every
 * other character written `~` and two hex digits (`~` itself is never kept).
 */
export function fileNameOf(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, (ch) => `~${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function plain(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

/**
 * HTTP upload endpoint for pictures and videos: `POST /ehome/pictures?DeviceID=..&PicID=..[&Channel=..]` with a
 * JPEG body, `POST /ehome/videos?DeviceID=..&VideoId=..`. Sizes are checked against Content-Length before reading
 * and counted while reading; files get names built only from `[A-Za-z0-9_-]` and are written to a temporary name,
 * then renamed, so a half-received file is never reported.
 */
export class PictureServer {
  readonly directory: string;
  private readonly server: Server;
  private readonly options: PictureServerOptions;
  private readonly maxPicture: number;
  private readonly maxVideo: number;
  private readonly maxTotal: number;
  private readonly maxConcurrent: number;
  private readonly maxPerSource: number;
  private readonly minRate: number;
  private readonly graceMs: number;
  private active = 0;
  private counter = 0;
  private readonly activeBySource = new Map<string, number>();
  private readonly connectionsBySource = new Map<string, number>();
  /** Uploads cut for sending slower than the minimum rate, and connections closed over a per-source limit. */
  slowUploadsCut = 0;
  connectionsRefused = 0;
  /** Bytes stored so far. */
  storedBytes = 0;
  /** Files stored and uploads refused so far. */
  stored = 0;
  refused = 0;

  constructor(options: PictureServerOptions) {
    this.options = options;
    this.directory = resolve(options.directory);
    this.maxPicture = options.maxPictureBytes ?? 4 * 1024 * 1024;
    this.maxVideo = options.maxVideoBytes ?? 64 * 1024 * 1024;
    this.maxTotal = options.maxTotalBytes ?? 1024 * 1024 * 1024;
    this.maxConcurrent = options.maxConcurrentUploads ?? 64;
    this.maxPerSource = options.maxUploadsPerSource ?? 8;
    this.minRate = options.minUploadBytesPerSecond ?? 4096;
    this.graceMs = options.uploadGraceMs ?? 5000;
    this.server = createServer({ requestTimeout: 60_000, headersTimeout: 10_000 }, (req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) this.refuse(req, res, 500, 'storage failed');
      });
    });
    this.server.maxHeadersCount = 32;
    this.server.maxConnections = options.maxConnections ?? 1024;
    const perSource = options.maxConnectionsPerSource ?? 32;
    this.server.on('connection', (socket) => {
      const source = plain(socket.remoteAddress);
      const n = (this.connectionsBySource.get(source) ?? 0) + 1;
      if (n > perSource) {
        this.connectionsRefused++;
        socket.destroy();
        return;
      }
      this.connectionsBySource.set(source, n);
      socket.once('close', () => {
        const left = (this.connectionsBySource.get(source) ?? 1) - 1;
        if (left <= 0) this.connectionsBySource.delete(source);
        else this.connectionsBySource.set(source, left);
      });
    });
  }

  /**
   * Reads what earlier runs left in the directory: `.part` files of uploads a crash interrupted are deleted, and
   * the stored files count against `maxTotalBytes`, so the budget does not restart from 0 with the process.
   * Two levels deep (`<device>/<file>`), as this server writes them.
   */
  private async recover(): Promise<void> {
    let total = 0;
    for (const top of await readdir(this.directory, { withFileTypes: true })) {
      // Device folders only: a name starting with '.' is never one (fileNameOf keeps no '.'), e.g. the store's.
      if (!top.isDirectory() || top.name.startsWith('.')) continue;
      const dir = join(this.directory, top.name);
      for (const f of await readdir(dir, { withFileTypes: true })) {
        if (!f.isFile()) continue;
        const path = join(dir, f.name);
        if (f.name.endsWith('.part')) {
          await rm(path, { force: true });
          this.partsRemoved++;
          continue;
        }
        total += (await stat(path)).size;
      }
    }
    this.storedBytes = total;
  }

  /** `.part` files of interrupted uploads deleted at start. */
  partsRemoved = 0;

  async listen(): Promise<AddressInfo> {
    await mkdir(this.directory, { recursive: true });
    await this.recover();
    await new Promise<void>((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(this.options.port ?? 0, this.options.address ?? '0.0.0.0', () => {
        this.server.off('error', fail);
        ok();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Deletes stored files (retention) and gives their bytes back to the storage budget. */
  async remove(files: readonly { path: string; size: number }[]): Promise<void> {
    for (const f of files) {
      const path = resolve(f.path);
      if (!path.startsWith(this.directory + sep)) continue;
      try {
        await rm(path);
        this.storedBytes = Math.max(0, this.storedBytes - f.size);
      } catch {
        // already gone
      }
    }
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }

  /**
   * Answers `status` and closes the connection. Before the body was read (`drain`) the rest of a small body is
   * read and discarded so the client sees the answer; once the body was being read it is never read further: the
   * socket is closed right after the answer (a slow or endless body must not keep the connection).
   */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: string, drain = true): void {
    this.refused++;
    this.options.onRefused?.(plain(req.socket.remoteAddress), req.socket.remotePort ?? 0, status, reason);
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    if (drain) {
      res.end(`${reason}\n`);
      req.resume();
      return;
    }
    const socket = req.socket;
    const kill = setTimeout(() => socket.destroy(), 1000);
    kill.unref?.();
    res.end(`${reason}\n`, () => {
      clearTimeout(kill);
      socket.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const kind = url.pathname === PICTURE_UPLOAD_PATH ? 'picture' : url.pathname === VIDEO_UPLOAD_PATH ? 'video' : null;
    if (!kind) return this.refuse(req, res, 404, 'unknown path');
    if (req.method !== 'POST') return this.refuse(req, res, 405, 'use POST');
    const deviceId = url.searchParams.get('DeviceID') ?? '';
    const id = url.searchParams.get(kind === 'picture' ? 'PicID' : 'VideoId') ?? '';
    const channelText = url.searchParams.get('Channel');
    if (!ID_PATTERN.test(deviceId) || !ID_PATTERN.test(id)) return this.refuse(req, res, 400, 'bad DeviceID or id');
    let channel: number | undefined;
    if (channelText !== null) {
      if (!/^\d{1,4}$/.test(channelText)) return this.refuse(req, res, 400, 'bad Channel');
      channel = Number(channelText);
    }
    const address = plain(req.socket.remoteAddress);
    if (!this.options.authorize(deviceId, address)) return this.refuse(req, res, 403, 'device not registered');
    const limit = kind === 'picture' ? this.maxPicture : this.maxVideo;
    const declared = req.headers['content-length'];
    if (declared !== undefined && !(Number(declared) <= limit)) return this.refuse(req, res, 413, 'too large');
    if (this.storedBytes >= this.maxTotal) return this.refuse(req, res, 507, 'storage budget used up');
    if (this.active >= this.maxConcurrent) return this.refuse(req, res, 503, 'too many uploads');
    const fromSource = this.activeBySource.get(address) ?? 0;
    if (fromSource >= this.maxPerSource) return this.refuse(req, res, 503, 'too many uploads from this address');
    const name = `${fileNameOf(deviceId)}_${fileNameOf(id)}_${Date.now()}_${++this.counter}${kind === 'picture' ? '.jpg' : '.bin'}`;
    const dir = join(this.directory, fileNameOf(deviceId));
    const path = resolve(dir, name);
    if (!path.startsWith(this.directory + sep)) return this.refuse(req, res, 400, 'bad name');
    this.active++;
    this.activeBySource.set(address, fromSource + 1);
    const part = `${path}.part`;
    let size = 0;
    try {
      await mkdir(dir, { recursive: true });
      const result = await this.receive(req, part, limit, kind);
      if ('status' in result) {
        await rm(part, { force: true });
        return this.refuse(req, res, result.status, result.reason, false);
      }
      size = result.size;
      await rename(part, path);
    } finally {
      this.active--;
      const left = (this.activeBySource.get(address) ?? 1) - 1;
      if (left <= 0) this.activeBySource.delete(address);
      else this.activeBySource.set(address, left);
    }
    try {
      await this.options.onStored({ kind, deviceId, id, path, size, channel, receivedAt: Date.now() });
    } catch (e) {
      await rm(path, { force: true });
      return this.refuse(req, res, 503, `not stored: ${e instanceof Error ? e.message : String(e)}`, false);
    }
    this.storedBytes += size;
    this.stored++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ stored: name, size }));
  }

  private receive(
    req: IncomingMessage,
    part: string,
    limit: number,
    kind: 'picture' | 'video',
  ): Promise<{ size: number } | { status: number; reason: string }> {
    return new Promise((done) => {
      const out = createWriteStream(part, { flags: 'wx' });
      let size = 0;
      let first: Uint8Array | undefined;
      let failed: { status: number; reason: string } | undefined;
      const started = Date.now();
      // The minimum rate, checked every half second: bytes alone (1 B/s) cannot hold a slot for long.
      const rateCheck = setInterval(() => {
        const elapsed = Date.now() - started;
        if (elapsed > this.graceMs && size < (this.minRate * (elapsed - this.graceMs)) / 1000) {
          this.slowUploadsCut++;
          fail(408, `upload slower than ${this.minRate} bytes/s`);
        }
      }, 500);
      rateCheck.unref?.();
      const fail = (status: number, reason: string): void => {
        if (failed) return;
        failed = { status, reason };
        clearInterval(rateCheck);
        req.unpipe(out);
        req.pause();
        out.destroy();
        done(failed);
      };
      req.once('close', () => clearInterval(rateCheck));
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (!first) first = chunk.subarray(0, 3);
        if (size > limit) fail(413, 'too large');
        else if (
          kind === 'picture' &&
          first.length >= 3 &&
          (first[0] !== 0xff || first[1] !== 0xd8 || first[2] !== 0xff)
        ) {
          fail(415, 'not a JPEG (no FF D8 FF start)');
        }
      });
      req.on('aborted', () => fail(400, 'upload aborted'));
      req.on('error', () => fail(400, 'upload failed'));
      out.on('error', () => fail(500, 'cannot write'));
      out.on('finish', () => {
        clearInterval(rateCheck);
        if (failed) return;
        if (size === 0 || (kind === 'picture' && size < 3)) {
          done({ status: 400, reason: 'empty body' });
          return;
        }
        done({ size });
      });
      req.pipe(out);
    });
  }
}
