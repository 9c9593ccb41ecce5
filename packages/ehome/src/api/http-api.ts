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
import { STREAM_FORMATS, StreamBodyEncoder, type StreamFormat } from '../platform/media/stream-body.js';
import type { EhomeServer } from '../platform/server.js';
import { type ApiDevice, toApiDevice } from '../store/event-json.js';
import type { StoredEvent } from '../store/types.js';
import { openApiDocument } from './openapi.js';

/** Settings of an {@link EhomeHttpApi}. */
export interface EhomeHttpApiOptions {
  /** Address to bind. Default 127.0.0.1 (loopback); any other address requires `token`. */
  address?: string;
  /** Port. Default 7680; 0 picks a free one. */
  port?: number;
  /** Bearer token every request must carry (`Authorization: Bearer <token>`). Required off loopback. */
  token?: string;
  /**
   * How often this API tells the store it is alive, with its URL (so the other platform processes on one
   * PostgreSQL forward requests for its devices here). Default 5000 ms.
   */
  heartbeatMs?: number;
  /** URL the other platform processes reach this API at. Default: the URL it listens on. */
  publicUrl?: string;
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

export type { ApiDevice };

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
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
  private readonly app = new Hono();
  private readonly http: Server;
  private readonly options: EhomeHttpApiOptions;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private eventStreams = 0;
  private readonly connectionsBySource = new Map<string, number>();
  /** Connections closed at once for exceeding the per-source limit. */
  connectionsRefused = 0;
  private readonly closers = new Set<() => void>();

  constructor(
    readonly server: EhomeServer,
    options: EhomeHttpApiOptions = {},
  ) {
    this.options = options;
    const address = options.address ?? '127.0.0.1';
    if (!isLoopback(address) && !options.token) {
      throw new ValueOutOfRangeError('token', `a bearer token is required to serve the API on ${address}`);
    }
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
    const beat = (): void => {
      this.server.store.heartbeat(this.options.publicUrl ?? this.url).catch(() => {});
    };
    beat();
    this.heartbeat = setInterval(beat, this.options.heartbeatMs ?? 5000);
    this.heartbeat.unref?.();
    return { address: a.address, port: a.port };
  }

  /** The base URL clients use (`http://127.0.0.1:PORT`). */
  get url(): string {
    const a = this.http.address() as AddressInfo | null;
    if (!a) return '';
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of [...this.closers]) c();
    if (!this.http.listening) return;
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** An event as JSON: id, ISO time, type, device, and the stored body. */
  private eventJson(e: StoredEvent): Record<string, unknown> {
    const out: Record<string, unknown> = { id: e.id, at: new Date(e.at).toISOString(), type: e.type };
    if (e.deviceId !== undefined) out.deviceId = e.deviceId;
    return Object.assign(out, e.body);
  }

  /** A device: this process's session, else what the store knows (registered on another process, or offline). */
  private async device(id: string): Promise<ApiDevice> {
    const s = this.server.registry.get(id);
    if (s) return toApiDevice(s, true);
    const k = await this.server.store.session(id);
    if (k) return toApiDevice(k.session, k.online);
    throw new ApiError(404, 'DEVICE_NOT_FOUND', `no device ${JSON.stringify(id)} has registered`);
  }

  /**
   * Where a request for a device (or a picture) held by another platform process on the same store goes: that
   * process's API URL, when it is alive; `undefined` when this process answers itself.
   */
  private async ownerUrl(nodeId: string): Promise<string | undefined> {
    if (nodeId === this.server.store.nodeId) return undefined;
    const node = (await this.server.store.nodes()).find((n) => n.nodeId === nodeId);
    return node?.alive ? node.apiUrl : undefined;
  }

  /** Forwards a request to another platform process's API and relays its answer (streams included). */
  private async forward(c: Context, base: string): Promise<Response> {
    const url = new URL(c.req.url);
    const headers = new Headers({ 'x-cam-forwarded': this.server.store.nodeId });
    const auth = this.options.token;
    if (auth) headers.set('authorization', `Bearer ${auth}`);
    const type = c.req.header('content-type');
    if (type) headers.set('content-type', type);
    const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    let answer: Response;
    try {
      answer = await fetch(`${base}${url.pathname}${url.search}`, {
        method: c.req.method,
        headers,
        ...(hasBody ? { body: await c.req.arrayBuffer() } : {}),
        signal: c.req.raw.signal,
      });
    } catch (e) {
      throw new ApiError(
        502,
        'DEVICE_OFFLINE',
        `the platform process holding it (${base}) cannot be reached: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const out = new Headers();
    for (const h of ['content-type', 'content-disposition', 'cache-control']) {
      const v = answer.headers.get(h);
      if (v) out.set(h, v);
    }
    out.set('x-cam-forwarded-to', base);
    return new Response(answer.body, { status: answer.status, headers: out });
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

    // A device registered on another platform process sharing the store: its commands and streams go there.
    app.use('/api/devices/:id/*', async (c, next) => {
      const id = c.req.param('id');
      if (this.server.registry.get(id) || c.req.header('x-cam-forwarded') !== undefined) return next();
      const k = await this.server.store.session(id);
      const base = k?.online ? await this.ownerUrl(k.nodeId) : undefined;
      if (base === undefined) return next();
      return this.forward(c, base);
    });

    app.get('/api/devices', async (c) => {
      const out = new Map<string, ApiDevice>();
      for (const k of await this.server.store.sessions()) out.set(k.session.deviceId, toApiDevice(k.session, k.online));
      for (const s of this.server.devices()) out.set(s.deviceId, toApiDevice(s, true));
      return c.json([...out.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)));
    });
    app.get('/api/devices/:id', async (c) => c.json(await this.device(c.req.param('id'))));
    app.get('/api/devices/:id/commands', async (c) => {
      const id = c.req.param('id');
      await this.device(id);
      const limit = intParam(c.req.query('limit'), 'limit', 1, 1000, 100);
      const list = await this.server.store.commands(id, limit);
      return c.json(list.map((x) => ({ ...x, at: new Date(x.at).toISOString() })));
    });

    app.post('/api/devices/:id/capture', async (c) => {
      const id = c.req.param('id');
      await this.device(id);
      const body = await jsonBody(c);
      const channel = intOf(body.channel, 'channel', 1, 4096, 1);
      const pic = await this.server.device(id).capturePicture({ channel, signal: c.req.raw.signal });
      const mediaId = pic.media?.storeId;
      return c.json({
        picId: pic.picId,
        size: pic.media?.size,
        url: mediaId ? `/api/pictures/${mediaId}` : undefined,
      });
    });

    app.post('/api/devices/:id/ptz', async (c) => {
      const id = c.req.param('id');
      await this.device(id);
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
      await this.device(id);
      return c.json(await this.server.device(id).getConfig(configName(c.req.param('name'))));
    });
    app.put('/api/devices/:id/config/:name', async (c) => {
      const id = c.req.param('id');
      await this.device(id);
      const body = await jsonBody(c);
      await this.server.device(id).setConfig(configName(c.req.param('name')), body as XmlTree);
      return c.json({ ok: true });
    });

    app.post('/api/devices/:id/reboot', async (c) => {
      const id = c.req.param('id');
      await this.device(id);
      await this.server.device(id).reboot();
      return c.json({ ok: true }, 202);
    });

    app.post('/api/devices/:id/upgrade', async (c) => {
      const id = c.req.param('id');
      await this.device(id);
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
      await this.device(id);
      const files = await this.server.device(id).queryRecords({
        channel: intParam(c.req.query('channel'), 'channel', 1, 4096, 1),
        start: ehomeTimeOf(c.req.query('from'), 'from'),
        stop: ehomeTimeOf(c.req.query('to'), 'to'),
      });
      return c.json(files);
    });

    app.get('/api/devices/:id/preview', async (c) => {
      const id = c.req.param('id');
      await this.device(id);
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
      await this.device(id);
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
      await this.device(id);
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

    app.get('/api/events', async (c) => {
      const q = await this.server.store.queryEvents({
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
      const lastEventId = c.req.header('last-event-id');
      this.eventStreams++;
      return streamSSE(c, async (sse) => {
        let wake: (() => void) | undefined;
        let ended = false;
        const end = (): void => {
          ended = true;
          wake?.();
        };
        // Woken by every commit of this process and (PostgreSQL) of the others; polls every 2 s besides.
        const unsubscribe = this.server.store.subscribe(() => wake?.());
        this.closers.add(end);
        sse.onAbort(end);
        try {
          let after =
            lastEventId !== undefined && /^\d{1,15}$/.test(lastEventId)
              ? Number(lastEventId)
              : await this.server.store.latestEventId();
          await sse.writeSSE({ event: 'ready', data: '{}' });
          while (!ended) {
            const page = await this.server.store.queryEvents({
              after,
              limit: 1000,
              ...optional('type', type),
              ...optional('deviceId', device),
            });
            for (const e of page.events) {
              await sse.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(this.eventJson(e)) });
              after = e.id;
            }
            if (page.next !== null) continue;
            // Without filters a page may be empty while later ids exist: skip to the newest seen.
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 2000);
              wake = () => {
                clearTimeout(t);
                resolve();
              };
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
      const id = c.req.param('id');
      const m = /^\d{1,15}$/.test(id) ? await this.server.store.media(Number(id)) : undefined;
      if (!m) throw new ApiError(404, 'NOT_FOUND', 'no such picture');
      if (m.nodeId !== this.server.store.nodeId && c.req.header('x-cam-forwarded') === undefined) {
        const base = await this.ownerUrl(m.nodeId);
        if (base !== undefined) return this.forward(c, base);
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(m.path);
      } catch {
        throw new ApiError(
          404,
          'NOT_FOUND',
          'the picture file is gone (retention, or stored by a process that is down)',
        );
      }
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
