import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { discover } from '@cam/gvcp';
import { isIpv4, isLoopback } from '@cam/net-utils';
import { createAdaptorServer } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { WebSocketServer } from 'ws';
import { EhomeSession } from './ehome-session.js';
import { GigeSession } from './gige-session.js';
import { ScGvmpSession } from './scgvmp-session.js';
import { MAX_UPLOAD_BYTES, SdkSession } from './sdk-session.js';

/** Options of {@link ViewerServer}. */
export interface ViewerServerOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** TCP port (default 0: any free one). */
  port?: number;
  /** Access token; required on every request when bound to a non-loopback address (generated when not given). */
  token?: string;
  /** Directory recordings go to. */
  recordDir: string;
  /** Largest GVSP packet to negotiate with GigE Vision cameras (default 1500; 9000 for jumbo frames). */
  packetSize?: number;
  /** The built browser app (default: dist/viewer beside this module, or the package's dist/viewer from source). */
  assetsDir?: string;
}

/** The most devices one viewer opens, and browser sockets it serves at once. */
const MAX_SESSIONS = 16;
const MAX_SOCKETS = 32;
const MAX_BODY = 64 * 1024;
const MAX_SOCKET_BACKLOG = 64 * 1024 * 1024;
/** How often a browser's WebSocket is pinged; one missed pong ends it. */
const HEARTBEAT_MS = 15_000;
/** TCP connections one source address may hold (a browser opens about six, plus one WebSocket per tab). */
const MAX_CONNECTIONS_PER_SOURCE = 64;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
};

/** The browser app is not built (run `pnpm --filter @cam/cli build`). */
export class ViewerAssetsMissingError extends Error {
  override readonly name = 'ViewerAssetsMissingError';
}

function findAssets(given: string | undefined): string {
  const candidates = given
    ? [given]
    : [
        fileURLToPath(new URL('./viewer/', import.meta.url)),
        fileURLToPath(new URL('../../dist/viewer/', import.meta.url)),
      ];
  for (const dir of candidates) if (existsSync(`${dir}/index.html`)) return dir;
  throw new ViewerAssetsMissingError(
    `the viewer's browser app is not built (looked in ${candidates.join(', ')}): run pnpm --filter @cam/cli build`,
  );
}

/** A device the viewer holds open. */
type Session = GigeSession | ScGvmpSession | EhomeSession | SdkSession;

/** The kinds of device the viewer opens, as `/api/devices` and the URLs name them. */
export const VIEW_KINDS = ['gige', 'scgvmp', 'ehome', 'sdk'] as const;
export type ViewKind = (typeof VIEW_KINDS)[number];

function errorBody(e: unknown): { ok: false; error: { name: string; message: string } } {
  const err = e instanceof Error ? e : new Error(String(e));
  return { ok: false, error: { name: err.name, message: err.message } };
}

/**
 * `cam view`'s web server: the browser app, a small JSON API over the devices it opened, and one WebSocket per
 * browser tab and device for frames and statistics. Bound to loopback by default; elsewhere every request carries
 * the token (`?token=` or the `x-cam-token` header). The Host header must name this server (a page of another site
 * cannot reach it through DNS rebinding).
 */
export class ViewerServer {
  readonly token: string | undefined;
  private readonly app = new Hono();
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly sessions = new Map<string, Session>();
  private readonly assets = new Map<string, { body: Uint8Array; type: string }>();
  private nextId = 1;
  private readonly connectionsBySource = new Map<string, number>();
  /** Connections refused because their source already held {@link MAX_CONNECTIONS_PER_SOURCE}. */
  connectionsRefused = 0;
  private port = 0;
  private readonly host: string;

  constructor(private readonly options: ViewerServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    if (!isIpv4(this.host)) throw new TypeError(`host "${this.host}" is not an IPv4 address`);
    // loopback: no token unless one is given; elsewhere always one
    this.token = isLoopback(this.host) ? options.token : (options.token ?? randomBytes(16).toString('hex'));
    const dir = findAssets(options.assetsDir);
    for (const name of readdirSync(dir)) {
      const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.'))];
      if (!type || name.startsWith('.')) continue; // .*.tmp: a build renaming files into place
      this.assets.set(name, { body: readFileSync(`${dir}/${name}`), type });
    }
    this.routes();
    this.http = createAdaptorServer({
      fetch: this.app.fetch,
      serverOptions: { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5000 },
    }) as Server;
    this.http.maxConnections = 256;
    this.http.maxHeadersCount = 64;
    this.http.on('connection', (socket) => {
      const source = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      const n = (this.connectionsBySource.get(source) ?? 0) + 1;
      if (n > MAX_CONNECTIONS_PER_SOURCE) {
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
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  /** Binds; resolves with the URL to open. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port ?? 0, this.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.port = (this.http.address() as AddressInfo).port;
    return this.url();
  }

  /** The URL of the start page (with the token when there is one). */
  url(path = '/'): string {
    const q = this.token ? `?token=${this.token}` : '';
    return `http://${this.host}:${this.port}${path}${q}`;
  }

  /** Opens a device; resolves with its session. */
  async open(kind: string, address: string, port?: number, token?: string): Promise<Session> {
    if (!(VIEW_KINDS as readonly string[]).includes(kind))
      throw new TypeError(`device kind "${kind}" is not one this viewer opens (${VIEW_KINDS.join(', ')})`);
    if (this.sessions.size >= MAX_SESSIONS) throw new RangeError(`at most ${MAX_SESSIONS} devices are open at once`);
    if (kind === 'ehome') {
      const id = `ehome-${this.nextId++}`;
      const session = await EhomeSession.open(id, address, token);
      this.sessions.set(id, session);
      return session;
    }
    if (!isIpv4(address)) throw new TypeError(`address "${address}" is not an IPv4 address`);
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port <= 0xffff))
      throw new TypeError(`port ${port} is not in 1..65535`);
    if (this.sessions.size >= MAX_SESSIONS) throw new RangeError(`at most ${MAX_SESSIONS} devices are open at once`);
    const id = `${kind}-${this.nextId++}`;
    const session: Session =
      kind === 'gige'
        ? await GigeSession.open(id, address, {
            recordDir: this.options.recordDir,
            ...(this.options.packetSize === undefined ? {} : { packetSize: this.options.packetSize }),
            ...(port === undefined ? {} : { port }),
          })
        : kind === 'scgvmp'
          ? await ScGvmpSession.open(id, address, port === undefined ? {} : { port })
          : await SdkSession.open(id, address, port === undefined ? {} : { port });
    this.sessions.set(id, session);
    return session;
  }

  /** Every device open, in the order opened. */
  list(): Session[] {
    return [...this.sessions.values()];
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
    for (const s of this.sessions.values()) await s.close().catch(() => {});
    this.sessions.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ------------------------------------------------------------------ checks

  /**
   * Without a token (loopback), the Host must name this server: a page of another site whose name resolves to
   * 127.0.0.1 (DNS rebinding) is refused. With a token, reached by whatever name the network gives, the token is the
   * check.
   */
  private hostAllowed(host: string | undefined): boolean {
    if (this.token !== undefined) return true;
    if (host === undefined) return false;
    return [`${this.host}:${this.port}`, `localhost:${this.port}`].includes(host.toLowerCase());
  }

  private tokenOk(given: string | null | undefined): boolean {
    if (this.token === undefined) return true;
    if (typeof given !== 'string') return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private session(c: Context): GigeSession {
    const s = this.anySession(c);
    if (!(s instanceof GigeSession)) throw new UnknownSessionError(`device "${s.id}" is not a GigE Vision camera`);
    return s;
  }

  private ehome(c: Context): EhomeSession {
    const s = this.anySession(c);
    if (!(s instanceof EhomeSession)) throw new UnknownSessionError(`device "${s.id}" is not an EHome platform`);
    return s;
  }

  /** Passes a platform's answer on: status, content type and the body as it streams. */
  private async relay(c: Context, path: string, query: URLSearchParams): Promise<Response> {
    const r = await this.ehome(c).call(path, query, c.req.raw.signal);
    const headers = new Headers({ 'cache-control': 'no-store' });
    const type = r.headers.get('content-type');
    if (type) headers.set('content-type', type);
    return new Response(r.body, { status: r.status, headers });
  }

  private sdk(c: Context): SdkSession {
    const s = this.anySession(c);
    if (!(s instanceof SdkSession)) throw new UnknownSessionError(`device "${s.id}" is not an LED controller`);
    return s;
  }

  private anySession(c: Context): Session {
    const s = this.sessions.get(c.req.param('id') ?? '');
    if (!s) throw new UnknownSessionError(`no device "${c.req.param('id')}" is open`);
    return s;
  }

  private async body(c: Context): Promise<Record<string, unknown>> {
    const length = Number(c.req.header('content-length') ?? '0');
    if (length > MAX_BODY) throw new RangeError(`request body of ${length} bytes is over ${MAX_BODY}`);
    const text = await c.req.text();
    if (text.length > MAX_BODY) throw new RangeError(`request body is over ${MAX_BODY} bytes`);
    const v: unknown = text === '' ? {} : JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('request body is not an object');
    return v as Record<string, unknown>;
  }

  // ------------------------------------------------------------------ routes

  private routes(): void {
    const app = this.app;
    app.use('*', async (c, next) => {
      if (!this.hostAllowed(c.req.header('host'))) return c.text('wrong Host header', 421);
      const isAsset = /^\/assets\//.test(c.req.path);
      if (!isAsset && !this.tokenOk(c.req.query('token') ?? c.req.header('x-cam-token')))
        return c.text('missing or wrong token: open the URL cam view printed', 401);
      await next();
      c.header('x-content-type-options', 'nosniff');
      c.header('referrer-policy', 'no-referrer');
      return undefined;
    });
    app.onError((e, c) => {
      const status = e instanceof UnknownSessionError ? 404 : 400;
      return c.json(errorBody(e), status);
    });
    app.get('/', (c) => this.asset(c, 'index.html'));
    app.get('/assets/:file', (c) => this.asset(c, c.req.param('file')));
    app.get('/api/devices', (c) => c.json(this.list().map((s) => s.info())));
    // GigE Vision discovery: unicast to one address, or broadcast on every interface only when the body asks for it
    app.post('/api/discover', async (c) => {
      const b = await this.body(c);
      const address = typeof b.address === 'string' && b.address !== '' ? b.address : undefined;
      if (address !== undefined && !isIpv4(address)) throw new TypeError(`address "${address}" is not an IPv4 address`);
      if (address === undefined && b.broadcast !== true)
        throw new TypeError('broadcast discovery must be asked for: broadcast true, or give an address');
      const port = b.port === undefined || b.port === '' ? undefined : Number(b.port);
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port <= 0xffff))
        throw new TypeError(`port ${String(b.port)} is not in 1..65535`);
      const found = await discover({
        timeoutMs: 1000,
        ...(address === undefined ? {} : { address }),
        ...(port === undefined ? {} : { port }),
      });
      return c.json(
        found.map((d) => ({
          address: d.address,
          port: d.port,
          model: d.modelName,
          manufacturer: d.manufacturerName,
          serial: d.serialNumber,
          mac: d.mac,
          name: d.userDefinedName,
        })),
      );
    });
    app.post('/api/devices', async (c) => {
      const b = await this.body(c);
      const port = b.port === undefined || b.port === '' ? undefined : Number(b.port);
      const s = await this.open(
        String(b.kind ?? 'gige'),
        String(b.address ?? ''),
        b.kind === 'ehome' ? undefined : port,
        typeof b.token === 'string' && b.token !== '' ? b.token : undefined,
      );
      return c.json(s.info());
    });
    app.delete('/api/devices/:id', async (c) => {
      const s = this.anySession(c);
      this.sessions.delete(s.id);
      await s.close();
      return c.json({ ok: true });
    });
    app.get('/api/gige/:id/features', async (c) => c.json(await this.session(c).features()));
    app.get('/api/gige/:id/features/:name', async (c) =>
      c.json({ name: c.req.param('name'), value: await this.session(c).read(c.req.param('name')) }),
    );
    app.put('/api/gige/:id/features/:name', async (c) => {
      const b = await this.body(c);
      if (typeof b.value !== 'string') throw new TypeError('value is not a string');
      const value = await this.session(c).write(c.req.param('name'), b.value);
      return c.json({ ok: true, name: c.req.param('name'), value });
    });
    app.post('/api/gige/:id/commands/:name', async (c) => {
      await this.session(c).execute(c.req.param('name'));
      return c.json({ ok: true });
    });
    app.post('/api/gige/:id/record', async (c) => {
      const b = await this.body(c);
      const s = this.session(c);
      if (b.on === true) return c.json({ ok: true, file: s.startRecording() });
      return c.json({ ok: true, ...(await s.stopRecording()) });
    });
    app.get('/api/gige/:id/stats', (c) => c.json(this.session(c).stats()));
    app.get('/api/devices/:id/stats', (c) => c.json(this.anySession(c).stats()));
    // EHome: the platform's devices, alarms (list and live), pictures and the fMP4 preview, relayed
    const pick = (c: Context, names: readonly string[]): URLSearchParams => {
      const q = new URLSearchParams();
      for (const n of names) {
        const v = c.req.query(n);
        if (v !== undefined && /^[A-Za-z0-9_.:-]{1,64}$/.test(v)) q.set(n, v);
      }
      return q;
    };
    const name = (c: Context, key: string): string => {
      const v = c.req.param(key) ?? '';
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new TypeError(`${key} "${v.slice(0, 80)}" is not a valid name`);
      return encodeURIComponent(v);
    };
    // Huidu LED controller: device information, files, uploads with progress
    app.get('/api/sdk/:id/info', async (c) => c.json(await this.sdk(c).deviceInfo()));
    app.get('/api/sdk/:id/files', async (c) => c.json(await this.sdk(c).files()));
    app.post('/api/sdk/:id/uploads', async (c) => {
      const s = this.sdk(c);
      const length = Number(c.req.header('content-length') ?? Number.NaN);
      if (!(length >= 0 && length <= MAX_UPLOAD_BYTES))
        throw new RangeError(`an upload needs a content-length of at most ${MAX_UPLOAD_BYTES} bytes`);
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (bytes.byteLength !== length) throw new RangeError('the upload ended before its content-length');
      const job = s.upload(c.req.query('name') ?? '', c.req.query('type') ?? 'image', bytes);
      return c.json(job);
    });
    app.get('/api/sdk/:id/uploads/:job', (c) => {
      const job = this.sdk(c).job(Number(c.req.param('job')));
      if (!job) throw new UnknownSessionError(`no upload ${c.req.param('job')}`);
      return c.json(job);
    });
    app.get('/api/ehome/:id/devices', (c) => this.relay(c, 'api/devices', new URLSearchParams()));
    app.get('/api/ehome/:id/events', (c) => this.relay(c, 'api/events', pick(c, ['type', 'device', 'after', 'limit'])));
    app.get('/api/ehome/:id/events/stream', (c) => this.relay(c, 'api/events/stream', pick(c, ['type', 'device'])));
    app.get('/api/ehome/:id/pictures/:pic', (c) =>
      this.relay(c, `api/pictures/${name(c, 'pic')}`, new URLSearchParams()),
    );
    app.get('/api/ehome/:id/devices/:dev/preview', (c) => {
      const q = pick(c, ['seconds', 'channel', 'stream']);
      q.set('format', 'mp4');
      return this.relay(c, `api/devices/${name(c, 'dev')}/preview`, q);
    });
  }

  private asset(c: Context, name: string): Response {
    const a = this.assets.get(name);
    if (!a) return c.text('not found', 404);
    return new Response(a.body, { headers: { 'content-type': a.type, 'cache-control': 'no-cache' } });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/ws\/([a-z]{1,16})\/([A-Za-z0-9-]{1,32})$/.exec(url.pathname);
    const found = m ? this.sessions.get(m[2] ?? '') : undefined;
    const session = found instanceof EhomeSession || found instanceof SdkSession ? undefined : found;
    const origin = req.headers.origin;
    const originOk = origin === undefined || this.hostAllowed(origin.replace(/^https?:\/\//, ''));
    if (
      !session ||
      session.kind !== m?.[1] ||
      !this.hostAllowed(req.headers.host) ||
      !originOk ||
      !this.tokenOk(url.searchParams.get('token')) ||
      this.wss.clients.size >= MAX_SOCKETS
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const link = session.attach({
        send: (parts, done) => {
          // the page acknowledges each frame, so this stays one frame deep; a socket that does not drain is cut
          if (ws.bufferedAmount > MAX_SOCKET_BACKLOG || ws.readyState !== ws.OPEN) {
            ws.terminate();
            done();
            return;
          }
          // one message in fragments (header, then the pixels as they are): ws writes each buffer without joining
          // them; `done` when the last is written (or the socket failed), so the pixels' buffer can be reused
          for (let i = 0; i < parts.length; i++) {
            const last = i === parts.length - 1;
            ws.send(parts[i] as Uint8Array, { binary: true, fin: last }, last ? () => done() : undefined);
          }
        },
        sendText: (text) => {
          if (ws.bufferedAmount <= MAX_SOCKET_BACKLOG) ws.send(text);
        },
      });
      ws.on('message', (data, binary) => {
        if (binary) return;
        const text = data.toString();
        if (text === '{"type":"ack"}') link.ack();
      });
      // a tab that is gone without closing (a sleeping laptop, a dropped link) answers no ping: cut after two
      let alive = true;
      ws.on('pong', () => {
        alive = true;
      });
      const heartbeat = setInterval(() => {
        if (!alive) ws.terminate();
        else {
          alive = false;
          ws.ping();
        }
      }, HEARTBEAT_MS);
      heartbeat.unref();
      const end = (): void => {
        clearInterval(heartbeat);
        link.detach();
      };
      ws.on('close', end);
      ws.on('error', end);
    });
  }
}

/** An API call named a device that is not open. */
export class UnknownSessionError extends Error {
  override readonly name = 'UnknownSessionError';
}
