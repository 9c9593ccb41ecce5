import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeMessage,
  type EhomeDevice,
  type EhomeEvent,
  type EhomeMessage,
  EhomeServer,
  type EhomeServerOptions,
  type EncodableMessage,
  encodeMessage,
} from '../src/index.js';

/** Everything a test opened, closed in afterEach. */
export class Cleanup {
  private readonly fns: (() => unknown)[] = [];
  add<T>(fn: () => unknown, value: T): T {
    this.fns.push(fn);
    return value;
  }
  async run(): Promise<void> {
    for (const f of this.fns.splice(0).reverse()) await f();
  }
}

export async function startServer(c: Cleanup, options: EhomeServerOptions = {}): Promise<EhomeServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ehome-test-'));
  c.add(() => rmSync(dir, { recursive: true, force: true }), undefined);
  const server = new EhomeServer({
    address: '127.0.0.1',
    port: 0,
    alarmPort: 0,
    picturePort: 0,
    dataDirectory: dir,
    ...options,
  });
  c.add(() => server.close(), server);
  await server.listen();
  return server;
}

export function track(c: Cleanup, device: EhomeDevice): EhomeDevice {
  return c.add(() => device.close(), device);
}

/** Resolves with the next event of `type` (rejects after `ms`). */
export function nextEvent<T extends EhomeEvent['type']>(
  server: EhomeServer,
  type: T,
  ms = 5000,
  predicate: (e: Extract<EhomeEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<EhomeEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.off('event', on);
      reject(new Error(`no ${type} event within ${ms} ms`));
    }, ms);
    const on = (e: EhomeEvent): void => {
      if (e.type === type && predicate(e as Extract<EhomeEvent, { type: T }>)) {
        clearTimeout(timer);
        server.off('event', on);
        resolve(e as Extract<EhomeEvent, { type: T }>);
      }
    };
    server.on('event', on);
  });
}

/** A bare UDP peer speaking the codec, for what EhomeDevice would never do (spoofing, silence, garbage). */
export class RawPeer {
  readonly socket: Socket;
  private readonly inbox: { msg: EhomeMessage; port: number }[] = [];
  private waiter: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (buf, rinfo) => {
      try {
        this.inbox.push({ msg: decodeMessage(buf), port: rinfo.port });
      } catch {
        return;
      }
      this.waiter?.();
    });
  }

  static async open(c: Cleanup, address = '127.0.0.1'): Promise<RawPeer> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, address, () => resolve());
    });
    const peer = new RawPeer(s);
    return c.add(() => new Promise<void>((r) => s.close(() => r())), peer);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(msg: EncodableMessage | Uint8Array, port: number): void {
    this.socket.send(msg instanceof Uint8Array ? msg : encodeMessage(msg), port, '127.0.0.1');
  }

  /** The next decoded message (rejects after `ms`). */
  async next(ms = 3000): Promise<EhomeMessage> {
    const deadline = Date.now() + ms;
    while (this.inbox.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no datagram');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.inbox.shift()!.msg;
  }

  /** Whether nothing arrives within `ms`. */
  async silent(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.inbox.length === 0;
  }
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** REGISTER params of a raw test device on 127.0.0.1 (EHome 4.0 `Password` when given). */
export const registerParams = (deviceId: string, password?: string) => ({
  netUnitType: 'PU',
  deviceId,
  firmwareVersion: 'raw',
  localIp: '127.0.0.1',
  localPort: 1,
  devType: 1,
  manufacture: 0,
  ...(password === undefined ? {} : { password }),
});

/** `bytes` cut at the given offsets (taken modulo its length + 1, deduplicated): every piece in order. */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}
