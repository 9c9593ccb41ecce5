import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
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
  /** Whether `deviceId` uploading from `address` may store a file (the platform checks its sessions). */
  authorize: (deviceId: string, address: string) => boolean;
  /** Called for every stored file. */
  onStored: (media: StoredMedia) => void;
  /** Called for every refused upload. */
  onRefused?: (address: string, port: number, status: number, reason: string) => void;
}

const SAFE = /[^A-Za-z0-9_-]/g;

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
  private active = 0;
  private counter = 0;
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
    this.server = createServer({ requestTimeout: 60_000, headersTimeout: 10_000 }, (req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) this.refuse(req, res, 500, 'storage failed');
      });
    });
    this.server.maxHeadersCount = 32;
  }

  async listen(): Promise<AddressInfo> {
    await mkdir(this.directory, { recursive: true });
    await new Promise<void>((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(this.options.port ?? 0, this.options.address ?? '0.0.0.0', () => {
        this.server.off('error', fail);
        ok();
      });
    });
    return this.server.address() as AddressInfo;
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

  private refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
    this.refused++;
    this.options.onRefused?.(plain(req.socket.remoteAddress), req.socket.remotePort ?? 0, status, reason);
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`${reason}\n`);
    req.resume();
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
    this.active++;
    const name = `${deviceId.replace(SAFE, '_')}_${id.replace(SAFE, '_')}_${Date.now()}_${++this.counter}${kind === 'picture' ? '.jpg' : '.bin'}`;
    const dir = join(this.directory, deviceId.replace(SAFE, '_'));
    const path = resolve(dir, name);
    if (!path.startsWith(this.directory + sep)) {
      this.active--;
      return this.refuse(req, res, 400, 'bad name');
    }
    const part = `${path}.part`;
    let size = 0;
    try {
      await mkdir(dir, { recursive: true });
      const result = await this.receive(req, part, limit, kind);
      if ('status' in result) {
        await rm(part, { force: true });
        return this.refuse(req, res, result.status, result.reason);
      }
      size = result.size;
      await rename(part, path);
    } finally {
      this.active--;
    }
    this.storedBytes += size;
    this.stored++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ stored: name, size }));
    this.options.onStored({ kind, deviceId, id, path, size, channel, receivedAt: Date.now() });
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
      const fail = (status: number, reason: string): void => {
        if (failed) return;
        failed = { status, reason };
        req.unpipe(out);
        out.destroy();
        done(failed);
      };
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
