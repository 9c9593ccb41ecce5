import { timingSafeEqual } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, TimeoutError, ValueOutOfRangeError, WireError } from '@cam/net-utils';
import { createAdaptorServer } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { EHOME_TIME, FieldTypeError, PTZ_COMMANDS, type PtzCommand, type XmlTree } from '../codec/index.js';
import type { AccessUnit } from '../codec/media/ps.js';
import { DeviceOfflineError, DeviceStatusError } from '../platform/errors.js';
import type { EhomeEvent, StoredMedia } from '../platform/events.js';
import { STREAM_FORMATS, StreamBodyEncoder, type StreamFormat } from '../platform/media/stream-body.js';
import type { DeviceSession } from '../platform/registry.js';
import type { EhomeServer } from '../platform/server.js';
import { EventLog, type LoggedEvent } from './event-log.js';
import { openApiDocument } from './openapi.js';

/** Settings of an {@link EhomeHttpApi}. */
export interface EhomeHttpApiOptions {
  /** Address to bind. Default 127.0.0.1 (loopback); any other address requires `token`. */
  address?: string;
  /** Port. Default 7680; 0 picks a free one. */
  port?: number;
  /** Bearer token every request must carry (`Authorization: Bearer <token>`). Required off loopback. */
  token?: string;
  /** Events kept for `GET /api/events` (newest first out of the ring). Default 100,000. */
  maxEvents?: number;
  /** Pictures and videos addressable by `GET /api/pictures/{id}` (newest kept). Default 100,000. */
  maxPictures?: number;
  /** Longest live stream one request may ask for. Default 3600 s. */
  maxStreamSeconds?: number;
  /** Clients of the live event stream at once; more get 503. Default 64. */
  maxEventStreams?: number;
  /** Largest JSON request body. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Open connections from one source address; more are closed at once. Default 64. */
  maxConnectionsPerSource?: number;
  /** Open connections in total. Default 1024. */
  maxConnections?: number;
}

/** Default port of the HTTP API. */
export const DEFAULT_API_PORT = 7680;

/** Stable error codes of the API (`{ "error": { "code", "message" } }`). */
export const ApiErrorCodes = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  NOT_FOUND: 'NOT_FOUND',
  DEVICE_NOT_FOUND: 'DEVICE_NOT_FOUND',
  DEVICE_OFFLINE: 'DEVICE_OFFLINE',
  DEVICE_TIMEOUT: 'DEVICE_TIMEOUT',
  DEVICE_ERROR: 'DEVICE_ERROR',
  NO_MEDIA: 'NO_MEDIA',
  FORMAT_UNSUPPORTED: 'FORMAT_UNSUPPORTED',
  TOO_MANY_STREAMS: 'TOO_MANY_STREAMS',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  INTERNAL: 'INTERNAL',
} as const;
export type ApiErrorCode = (typeof ApiErrorCodes)[keyof typeof ApiErrorCodes];

/** An API failure with its HTTP status and stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A device as `GET /api/devices` lists it. */
export interface ApiDevice {
  deviceId: string;
  online: boolean;
  address: string;
  port: number;
  firmware: string;
  version: string;
  /** ISO 8601. */
  lastSeen: string;
  registeredAt: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}

function toApiDevice(s: Readonly<DeviceSession>, online: boolean): ApiDevice {
  return {
    deviceId: s.deviceId,
    online,
    address: s.address,
    port: s.port,
    firmware: s.firmwareVersion,
    version: s.version,
    lastSeen: new Date(s.lastSeen).toISOString(),
    registeredAt: new Date(s.registeredAt).toISOString(),
  };
}

/** Maps what the platform throws to an {@link ApiError}. */
function apiErrorOf(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (DeviceOfflineError.isInstance(e)) return new ApiError(409, 'DEVICE_OFFLINE', e.message);
  if (TimeoutError.isInstance(e)) return new ApiError(504, 'DEVICE_TIMEOUT', e.message);
  if (DeviceStatusError.isInstance(e)) return new ApiError(502, 'DEVICE_ERROR', e.message);
  if (ValueOutOfRangeError.isInstance(e) || FieldTypeError.isInstance(e)) {
    return new ApiError(400, 'BAD_REQUEST', e.message);
  }
  if (AbortError.isInstance(e)) return new ApiError(503, 'INTERNAL', e.message);
  if (WireError.isInstance(e)) return new ApiError(502, 'DEVICE_ERROR', `${e.name}: ${e.message}`);
  return new ApiError(500, 'INTERNAL', e instanceof Error ? e.message : String(e));
}

/** `from`/`to` of a query: ISO 8601, epoch milliseconds, or EHome `YYYY-MM-DD HH:MM:SS`. */
function parseInstant(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const t = Date.parse(EHOME_TIME.test(text) ? `${text.replace(' ', 'T')}Z` : text);
  if (Number.isNaN(t)) throw new ApiError(400, 'BAD_REQUEST', `${name}: not a time (${JSON.stringify(text)})`);
  return t;
}

/** An EHome device time (`YYYY-MM-DD HH:MM:SS`, UTC) from a query value. */
function ehomeTimeOf(text: string | undefined, name: string): string {
  const t = parseInstant(text, name);
  if (t === undefined) throw new ApiError(400, 'BAD_REQUEST', `${name} is required`);
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

function intParam(text: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new ApiError(400, 'BAD_REQUEST', `${name} must be an integer in ${min}..${max}`);
  }
  return Number(text);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The platform's HTTP API (issue 16): devices, commands, live media as chunked bodies, recordings, events paged and
 * live (Server-Sent Events), stored pictures, and its OpenAPI description at `/api/openapi.json`. Errors are JSON
 * `{ "error": { "code", "message" } }` with a stable `code` ({@link ApiErrorCodes}).
 *
 * Built on Hono with @hono/node-server: no dependencies of its own, Web-standard `Request`/`Response` so a live
 * stream is a `ReadableStream` body, an SSE helper, and it runs on Node 20 (engines: hono >=16.9, node-server >=20).
 */
export class EhomeHttpApi implements AsyncDisposable {
  readonly log: EventLog;
  private readonly app = new Hono();
  private readonly http: Server;
  private readonly options: EhomeHttpApiOptions;
  private readonly known = new Map<string, Readonly<DeviceSession>>();
  private readonly media = new Map<string, StoredMedia>();
  private readonly mediaIdByPath = new Map<string, string>();
  private mediaCounter = 0;
  private eventStreams = 0;
  private readonly connectionsBySource = new Map<string, number>();
  /** Connections closed at once for exceeding the per-source limit. */
  connectionsRefused = 0;
  private readonly closers = new Set<() => void>();
  private readonly onEvent = (e: EhomeEvent): void => this.record(e);

  constructor(
    readonly server: EhomeServer,
    options: EhomeHttpApiOptions = {},
  ) {
    this.options = options;
    const address = options.address ?? '127.0.0.1';
    if (!isLoopback(address) && !options.token) {
      throw new ValueOutOfRangeError('token', `a bearer token is required to serve the API on ${address}`);
    }
    this.log = new EventLog(options.maxEvents ?? 100_000);
    for (const s of server.devices()) this.known.set(s.deviceId, s);
    server.on('event', this.onEvent);
    this.routes();
    this.http = createAdaptorServer({
      fetch: this.app.fetch,
      // requestTimeout bounds receiving a request (a slow body), not a long streamed answer.
      serverOptions: { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5000 },
    }) as Server;
    this.http.maxHeadersCount = 64;
    this.http.maxConnections = options.maxConnections ?? 1024;
    const perSource = options.maxConnectionsPerSource ?? 64;
    this.http.on('connection', (socket) => {
      const source = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
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

  /** Binds; resolves with the address and port. */
  async listen(): Promise<{ address: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port ?? DEFAULT_API_PORT, this.options.address ?? '127.0.0.1', () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const a = this.http.address() as AddressInfo;
    return { address: a.address, port: a.port };
  }

  /** The base URL clients use (`http://127.0.0.1:PORT`). */
  get url(): string {
    const a = this.http.address() as AddressInfo | null;
    if (!a) return '';
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    this.server.off('event', this.onEvent);
    for (const c of [...this.closers]) c();
    if (!this.http.listening) return;
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private record(e: EhomeEvent): void {
    if (e.type === 'online') this.known.set(e.deviceId, e.session);
    if (e.type === 'media') {
      const id = String(++this.mediaCounter);
      this.media.set(id, e.media);
      this.mediaIdByPath.set(e.media.path, id);
      const max = this.options.maxPictures ?? 100_000;
      if (this.media.size > max) {
        const [oldest, m] = this.media.entries().next().value as [string, StoredMedia];
        this.media.delete(oldest);
        this.mediaIdByPath.delete(m.path);
      }
    }
    this.log.append(e);
  }

  /** An event as JSON: the event itself, with its media referenced by API URL. */
  private eventJson(l: LoggedEvent): Record<string, unknown> {
    const e = l.event;
    const out: Record<string, unknown> = { id: l.id, at: new Date(l.at).toISOString(), type: l.type };
    if (l.deviceId !== undefined) out.deviceId = l.deviceId;
    const mediaJson = (m: StoredMedia): Record<string, unknown> => {
      const id = this.mediaIdByPath.get(m.path);
      return { kind: m.kind, id: m.id, size: m.size, channel: m.channel, url: id ? `/api/pictures/${id}` : undefined };
    };
    switch (e.type) {
      case 'alarm':
        out.alarm = e.alarm;
        out.pictures = e.pictures.map(mediaJson);
        if (e.video) out.video = mediaJson(e.video);
        out.missing = e.missing;
        out.complete = e.complete;
        break;
      case 'media':
        out.media = mediaJson(e.media);
        out.linkedTo = e.linkedTo;
        break;
      case 'online':
        out.device = toApiDevice(e.session, true);
        out.reRegistered = e.reRegistered;
        break;
      default: {
        for (const [k, v] of Object.entries(e)) if (k !== 'type' && k !== 'deviceId') out[k] = v;
      }
    }
    return out;
  }

  private device(id: string): ApiDevice {
    const s = this.server.registry.get(id);
    if (s) return toApiDevice(s, true);
    const k = this.known.get(id);
    if (k) return toApiDevice(k, false);
    throw new ApiError(404, 'DEVICE_NOT_FOUND', `no device ${JSON.stringify(id)} has registered`);
  }

  private routes(): void {
    const app = this.app;
    const token = this.options.token;
    app.onError((err, c) => {
      const e = apiErrorOf(err);
      return c.json({ error: { code: e.code, message: e.message } }, e.status as 400);
    });
    app.notFound((c) =>
      c.json({ error: { code: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
    );
    if (token) {
      app.use('/api/*', async (c, next) => {
        const h = c.req.header('authorization') ?? '';
        const given = h.startsWith('Bearer ') ? h.slice(7) : '';
        if (!safeEqual(given, token)) throw new ApiError(401, 'UNAUTHORIZED', 'a valid bearer token is required');
        await next();
      });
    }
    app.use(
      '/api/*',
      bodyLimit({
        maxSize: this.options.maxBodyBytes ?? 64 * 1024,
        onError: () => {
          throw new ApiError(413, 'BODY_TOO_LARGE', 'request body too large');
        },
      }),
    );

    app.get('/api/openapi.json', (c) => c.json(openApiDocument()));

    app.get('/api/devices', (c) => {
      const out = new Map<string, ApiDevice>();
      for (const k of this.known.values()) out.set(k.deviceId, toApiDevice(k, false));
      for (const s of this.server.devices()) out.set(s.deviceId, toApiDevice(s, true));
      return c.json([...out.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)));
    });
    app.get('/api/devices/:id', (c) => c.json(this.device(c.req.param('id'))));

    app.post('/api/devices/:id/capture', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      const body = await jsonBody(c);
      const channel = intOf(body.channel, 'channel', 1, 4096, 1);
      const pic = await this.server.device(id).capturePicture({ channel, signal: c.req.raw.signal });
      const mediaId = pic.media ? this.mediaIdByPath.get(pic.media.path) : undefined;
      return c.json({
        picId: pic.picId,
        size: pic.media?.size,
        url: mediaId ? `/api/pictures/${mediaId}` : undefined,
      });
    });

    app.post('/api/devices/:id/ptz', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      const body = await jsonBody(c);
      const command = String(body.command ?? '').toUpperCase();
      if (!(PTZ_COMMANDS as readonly string[]).includes(command)) {
        throw new ApiError(400, 'BAD_REQUEST', `command must be one of ${PTZ_COMMANDS.join(', ')}`);
      }
      const action = body.action === undefined ? 'Start' : String(body.action);
      if (action !== 'Start' && action !== 'Stop') throw new ApiError(400, 'BAD_REQUEST', 'action: Start or Stop');
      await this.server.device(id).ptz({
        command: command as PtzCommand,
        action,
        speed: intOf(body.speed, 'speed', 1, 7, 4),
        channel: intOf(body.channel, 'channel', 1, 4096, 1),
      });
      return c.json({ ok: true });
    });

    app.get('/api/devices/:id/config/:name', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      return c.json(await this.server.device(id).getConfig(configName(c.req.param('name'))));
    });
    app.put('/api/devices/:id/config/:name', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      const body = await jsonBody(c);
      await this.server.device(id).setConfig(configName(c.req.param('name')), body as XmlTree);
      return c.json({ ok: true });
    });

    app.post('/api/devices/:id/reboot', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      await this.server.device(id).reboot();
      return c.json({ ok: true }, 202);
    });

    app.post('/api/devices/:id/upgrade', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      const body = await jsonBody(c);
      if (typeof body.url !== 'string') throw new ApiError(400, 'BAD_REQUEST', 'url is required');
      const report = await this.server.device(id).upgrade(body.url, {
        ...(typeof body.version === 'string' ? { version: body.version } : {}),
        ...(typeof body.sha256 === 'string' ? { sha256: body.sha256 } : {}),
        ...(typeof body.fileSize === 'number' ? { fileSize: body.fileSize } : {}),
        signal: c.req.raw.signal,
      });
      return c.json(report ?? {});
    });

    app.get('/api/devices/:id/records', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      const files = await this.server.device(id).queryRecords({
        channel: intParam(c.req.query('channel'), 'channel', 1, 4096, 1),
        start: ehomeTimeOf(c.req.query('from'), 'from'),
        stop: ehomeTimeOf(c.req.query('to'), 'to'),
      });
      return c.json(files);
    });

    app.get('/api/devices/:id/preview', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      const format = streamFormat(c.req.query('format'));
      const seconds = intParam(c.req.query('seconds'), 'seconds', 1, this.options.maxStreamSeconds ?? 3600, 10);
      const streamName = c.req.query('stream') ?? 'main';
      if (streamName !== 'main' && streamName !== 'sub' && streamName !== 'third') {
        throw new ApiError(400, 'BAD_REQUEST', 'stream: main, sub or third');
      }
      const stream = await this.server.device(id).preview({
        channel: intParam(c.req.query('channel'), 'channel', 1, 4096, 1),
        stream: streamName,
      });
      return this.streamAccessUnits(c, stream, seconds, new StreamBodyEncoder(format, { fragment: 'frame' }));
    });

    app.get('/api/devices/:id/playback', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      const format = streamFormat(c.req.query('format'));
      const seconds = intParam(c.req.query('seconds'), 'seconds', 1, this.options.maxStreamSeconds ?? 3600, 3600);
      const stream = await this.server.device(id).playback({
        channel: intParam(c.req.query('channel'), 'channel', 1, 4096, 1),
        start: ehomeTimeOf(c.req.query('from'), 'from'),
        end: ehomeTimeOf(c.req.query('to'), 'to'),
      });
      return this.streamAccessUnits(c, stream, seconds, new StreamBodyEncoder(format, { fragment: 'gop' }));
    });

    app.get('/api/devices/:id/download', async (c) => {
      const id = c.req.param('id');
      this.device(id);
      const channel = intParam(c.req.query('channel'), 'channel', 1, 4096, 1);
      let file = c.req.query('file');
      if (!file) {
        const files = await this.server.device(id).queryRecords({
          channel,
          start: ehomeTimeOf(c.req.query('from'), 'from'),
          stop: ehomeTimeOf(c.req.query('to'), 'to'),
          maxFiles: 1,
        });
        if (files.length === 0) throw new ApiError(404, 'NO_MEDIA', 'no recording in that range');
        file = files[0]!.name;
      }
      // The device pushes the program stream to the platform; it is staged in a temporary file, then sent.
      const dir = await mkdtemp(join(tmpdir(), 'ehome-api-dl-'));
      try {
        const path = join(dir, 'recording.ps');
        const r = await this.server.device(id).download(file, path, { channel, signal: c.req.raw.signal });
        if (r.bytes === 0) throw new ApiError(502, 'NO_MEDIA', 'the device sent no bytes');
        const bytes = await readFile(path);
        return c.body(new Uint8Array(bytes), 200, {
          'content-type': 'video/mp2p',
          'content-disposition': `attachment; filename="${file.replace(/[^A-Za-z0-9_.-]/g, '_')}.ps"`,
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    app.get('/api/events', (c) => {
      const q = this.log.query({
        ...optional('type', c.req.query('type')),
        ...optional('deviceId', c.req.query('device')),
        ...optional('from', parseInstant(c.req.query('from'), 'from')),
        ...optional('to', parseInstant(c.req.query('to'), 'to')),
        after: intParam(c.req.query('after'), 'after', 0, Number.MAX_SAFE_INTEGER, 0),
        limit: intParam(c.req.query('limit'), 'limit', 1, 1000, 100),
      });
      return c.json({ events: q.events.map((e) => this.eventJson(e)), next: q.next });
    });

    app.get('/api/events/stream', (c) => {
      if (this.eventStreams >= (this.options.maxEventStreams ?? 64)) {
        throw new ApiError(503, 'TOO_MANY_STREAMS', 'too many live event streams');
      }
      const type = c.req.query('type');
      const device = c.req.query('device');
      const match = (e: LoggedEvent): boolean =>
        (type === undefined || e.type === type) && (device === undefined || e.deviceId === device);
      this.eventStreams++;
      return streamSSE(c, async (sse) => {
        const queue: LoggedEvent[] = [];
        let wake: (() => void) | undefined;
        let overflow = false;
        const unsubscribe = this.log.subscribe((e) => {
          if (!match(e)) return;
          // A client that falls 1000 events behind is cut off rather than buffered without bound.
          if (queue.length >= 1000) overflow = true;
          else queue.push(e);
          wake?.();
        });
        let ended = false;
        const end = (): void => {
          ended = true;
          wake?.();
        };
        this.closers.add(end);
        sse.onAbort(end);
        try {
          await sse.writeSSE({ event: 'ready', data: '{}' });
          while (!ended && !overflow) {
            const e = queue.shift();
            if (e) {
              await sse.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(this.eventJson(e)) });
              continue;
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        } finally {
          unsubscribe();
          this.closers.delete(end);
          this.eventStreams--;
        }
      });
    });

    app.get('/api/pictures/:id', async (c) => {
      const m = this.media.get(c.req.param('id'));
      if (!m) throw new ApiError(404, 'NOT_FOUND', 'no such picture');
      const bytes = await readFile(m.path);
      return c.body(new Uint8Array(bytes), 200, {
        'content-type': m.kind === 'picture' ? 'image/jpeg' : 'application/octet-stream',
      });
    });
  }

  /**
   * A live stream as a chunked body of Annex B access units: the first access unit is awaited before the answer
   * starts (so a device that sends nothing is a JSON error, not an empty 200), then it runs until `seconds` pass,
   * the device ends it, or the client goes away.
   */
  private async streamAccessUnits(
    c: Context,
    stream: { [Symbol.asyncIterator](): AsyncIterator<AccessUnit>; stop(): Promise<void> },
    seconds: number,
    encoder: StreamBodyEncoder,
  ): Promise<Response> {
    const it = stream[Symbol.asyncIterator]();
    const firstTimeout = AbortSignal.timeout(10_000);
    let first: IteratorResult<AccessUnit>;
    try {
      first = await Promise.race([
        it.next(),
        new Promise<never>((_, reject) =>
          firstTimeout.addEventListener('abort', () => reject(new ApiError(504, 'NO_MEDIA', 'no video within 10 s'))),
        ),
      ]);
    } catch (e) {
      await stream.stop().catch(() => {});
      throw e;
    }
    if (first.done) {
      await stream.stop().catch(() => {});
      throw new ApiError(502, 'NO_MEDIA', 'the stream ended before any video');
    }
    const until = Date.now() + seconds * 1000;
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      this.closers.delete(stop);
      void stream.stop().catch(() => {});
    };
    this.closers.add(stop);
    const timer = setTimeout(stop, seconds * 1000);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of encoder.push(first.value)) controller.enqueue(chunk);
      },
      async pull(controller) {
        const end = (): void => {
          clearTimeout(timer);
          stop();
          for (const chunk of encoder.flush()) controller.enqueue(chunk);
          controller.close();
        };
        // An mp4 body may hold a frame back (its duration comes from the next one): read until a chunk is out.
        for (let sent = false; !sent; ) {
          if (stopped || Date.now() >= until) return end();
          try {
            const r = await it.next();
            if (r.done) return end();
            for (const chunk of encoder.push(r.value)) {
              controller.enqueue(chunk);
              sent = true;
            }
          } catch {
            return end();
          }
        }
      },
      cancel() {
        clearTimeout(timer);
        stop();
      },
    });
    c.req.raw.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      stop();
    });
    return c.body(body, 200, { 'content-type': encoder.contentType, 'cache-control': 'no-store' });
  }
}

function streamFormat(value: string | undefined): StreamFormat {
  const format = value ?? 'h264';
  if (!(STREAM_FORMATS as readonly string[]).includes(format)) {
    throw new ApiError(400, 'FORMAT_UNSUPPORTED', `format ${format}: ${STREAM_FORMATS.join(' or ')}`);
  }
  return format as StreamFormat;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'BAD_REQUEST', 'the body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ApiError(400, 'BAD_REQUEST', 'the body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

function intOf(v: unknown, name: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ApiError(400, 'BAD_REQUEST', `${name} must be an integer in ${min}..${max}`);
  }
  return v;
}

function configName(name: string): string {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new ApiError(400, 'BAD_REQUEST', 'config name: 1-64 of A-Z a-z 0-9 _');
  return name;
}
