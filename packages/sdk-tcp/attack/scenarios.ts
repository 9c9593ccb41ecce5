import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WireError } from '@cam/net-utils';
import type { AttackOutcome, AttackScenario } from '../../../test-support/hostile-types.js';
import {
  encodePacket,
  encodeSdkCall,
  encodeSearchDatagram,
  parseSdkXml,
  SdkCallAssembler,
  type SdkPacket,
  SdkPacketDecoder,
} from '../src/codec/index.js';
import { buildSdkRequest, buildSdkResponse } from '../src/codec/xml.js';
import { SdkDevice, type SdkDeviceOptions } from '../src/device/device.js';
import { SdkClient } from '../src/transport/client.js';
import { LedClient } from '../src/transport/led-client.js';

/**
 * Attacks on the simulated Huidu controller (`SdkDevice`), loopback only, for `pnpm attack` and the short run in
 * test/attack.test.ts. Attackers connect from 127.0.0.2-127.0.0.9 (other sources than the legitimate host on
 * 127.0.0.1, as on a real network). Every row checks a legitimate host (connect, negotiate, GetDeviceInfo) three
 * times during the attack and three times after, and the RSS of this process before and after.
 */

const MiB = 1024 * 1024;
const rssMiB = (): number => Math.round((process.memoryUsage().rss / MiB) * 10) / 10;
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

interface Rig {
  device: SdkDevice;
  close(): Promise<void>;
}

async function startDevice(options: SdkDeviceOptions = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'cam-sdk-attack-'));
  const device = await SdkDevice.start({ address: '127.0.0.1', port: 0, dir, ...options });
  return {
    device,
    async close() {
      await device.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One legitimate host session; true when GetDeviceInfo succeeded. */
async function legit(port: number): Promise<boolean> {
  let c: SdkClient | undefined;
  try {
    c = await SdkClient.connect('127.0.0.1', { port, timeoutMs: 3000, defaultTimeoutMs: 3000 });
    return (await c.call('GetDeviceInfo')).result === 'kSuccess';
  } catch {
    return false;
  } finally {
    c?.destroy();
  }
}

async function legitRounds(port: number, n: number, gapMs: number, signal: AbortSignal): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n && !signal.aborted; i++) {
    if (await legit(port)) ok++;
    await sleep(gapMs, signal);
  }
  return ok;
}

function connectFrom(port: number, source: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: source });
    s.on('error', () => resolve(null));
    s.once('connect', () => resolve(s));
  });
}

const sourceOf = (i: number): string => `127.0.0.${2 + (i % 8)}`;

/**
 * Runs `attack` (which must stop when `stop` aborts) against a fresh device, checking a legitimate host during and
 * after it, and returns the outcome.
 */
async function scenario(
  options: { budget: 'short' | 'full'; timeoutMs: number; signal: AbortSignal },
  deviceOptions: SdkDeviceOptions,
  attack: (rig: Rig, stop: AbortSignal) => Promise<string>,
  extra?: (rig: Rig) => Partial<AttackOutcome>,
): Promise<AttackOutcome> {
  const rssBefore = rssMiB();
  const rig = await startDevice(deviceOptions);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const attacking = attack(rig, stop.signal);
    await sleep(200, options.signal);
    const during = await legitRounds(rig.device.port, 3, 100, options.signal);
    stop.abort();
    const what = await attacking;
    await sleep(options.budget === 'short' ? 300 : 1000, options.signal);
    const after = await legitRounds(rig.device.port, 3, 50, options.signal);
    (globalThis as { gc?: () => void }).gc?.();
    const rssAfter = rssMiB();
    return {
      survived: during === 3 && after === 3 && rssAfter - rssBefore < 200,
      detail: `legit host ${during}/3 during, ${after}/3 after; ${what}`,
      rssBeforeMiB: rssBefore,
      rssAfterMiB: rssAfter,
      ...extra?.(rig),
    };
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    stop.abort();
    await rig.close();
  }
}

const count = (budget: 'short' | 'full', short: number, full: number): number => (budget === 'short' ? short : full);

/**
 * A malicious controller for host-side rows: it negotiates and issues a guid like a real one, then answers every
 * other request with `evil` (which may write without end until the socket closes).
 */
async function fakeDevice(
  evil: (socket: Socket, request: SdkPacket | { method: string }) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const decoder = new SdkPacketDecoder();
    const asm = new SdkCallAssembler();
    socket.on('data', (chunk: Buffer) => {
      let packets: SdkPacket[];
      try {
        packets = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const p of packets) {
        if (p.type === 'kSDKServiceAsk') socket.write(encodePacket({ type: 'kSDKServiceAnswer', version: p.version }));
        else if (p.type === 'kSDKCmdAsk') {
          const whole = asm.push(p);
          if (!whole) continue;
          const env = parseSdkXml(whole);
          if (env.method === 'GetIFVersion') {
            const xml = buildSdkResponse({ guid: 'ab'.repeat(16), method: env.method, result: 'kSuccess', body: '' });
            socket.write(encodeSdkCall(new TextEncoder().encode(xml), 'kSDKCmdAnswer'));
          } else evil(socket, { method: env.method });
        } else if (p.type !== 'kTcpHeartbeatAsk') evil(socket, p);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Writes `make()` until the socket is gone or `limitBytes` were written (bounded), respecting backpressure. */
function flood(socket: Socket, make: () => Uint8Array, limitBytes: number): void {
  let sent = 0;
  const pump = (): void => {
    while (!socket.destroyed && sent < limitBytes) {
      const b = make();
      sent += b.byteLength;
      if (!socket.write(b)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** Runs a host operation against a fake device: survived = a typed error (or success) in time, RSS bounded. */
async function hostRow(
  o: { budget: 'short' | 'full'; timeoutMs: number; signal: AbortSignal },
  evil: Parameters<typeof fakeDevice>[0],
  op: (c: LedClient) => Promise<unknown>,
): Promise<AttackOutcome> {
  const rssBefore = rssMiB();
  const dev = await fakeDevice(evil);
  let detail: string;
  let ok = false;
  try {
    const c = await LedClient.connect('127.0.0.1', {
      port: dev.port,
      timeoutMs: Math.min(5000, o.timeoutMs),
      defaultTimeoutMs: Math.min(5000, o.timeoutMs),
      signal: o.signal,
    });
    try {
      await op(c);
      detail = 'operation completed';
      ok = true;
    } catch (error) {
      const name = (error as Error).name;
      ok = WireError.isInstance(error) || (error as Error).name === 'RangeError';
      detail = `${name}: ${(error as Error).message.slice(0, 120)}`;
    } finally {
      c.destroy();
    }
  } finally {
    await dev.close();
  }
  (globalThis as { gc?: () => void }).gc?.();
  const rssAfter = rssMiB();
  return { survived: ok && rssAfter - rssBefore < 200, detail, rssBeforeMiB: rssBefore, rssAfterMiB: rssAfter };
}

const scenarios: AttackScenario[] = [
  {
    target: 'Huidu device (TCP 10001)',
    attack: 'slowloris: connections from 8 sources trickling one packet byte by byte',
    run: (o) =>
      scenario(o, { packetTimeoutMs: count(o.budget, 500, 10_000) }, async (rig, stop) => {
        const n = count(o.budget, 64, 200);
        const socks: Socket[] = [];
        for (let i = 0; i < n; i++) {
          const s = await connectFrom(rig.device.port, sourceOf(i));
          if (s) {
            s.write(new Uint8Array([0x00, 0x24, 0x03, 0x20])); // a 9 KiB kSDKCmdAsk announced
            socks.push(s);
          }
        }
        while (!stop.aborted) {
          for (const s of socks) if (!s.destroyed) s.write(new Uint8Array(1));
          await sleep(100, stop);
        }
        // Keep trickling past the packet deadline, then count who is still connected.
        const until = Date.now() + count(o.budget, 500, 10_000) + 500;
        while (Date.now() < until) {
          for (const s of socks) if (!s.destroyed) s.write(new Uint8Array(1));
          await sleep(100);
        }
        const open = socks.filter((s) => !s.destroyed && !s.readableEnded).length;
        for (const s of socks) s.destroy();
        const st = rig.device.stats;
        return `${socks.length} slow connections, ${st.refusedPerSource} refused per source, ${st.evictedConnections} evicted, ${st.slowPackets} closed by the packet deadline, ${open} still open at the end`;
      }),
  },
  {
    target: 'Huidu device (TCP 10001)',
    attack: 'connection flood: connect and hold, never speak',
    run: (o) =>
      scenario(o, { handshakeTimeoutMs: count(o.budget, 1000, 10_000) }, async (rig, stop) => {
        let made = 0;
        const socks: Socket[] = [];
        const total = count(o.budget, 300, 3000);
        while (!stop.aborted && made < total) {
          const s = await connectFrom(rig.device.port, sourceOf(made));
          made++;
          if (s) socks.push(s);
          if (made % 50 === 0) await sleep(10, stop);
        }
        await sleep(0, stop);
        for (const s of socks) s.destroy();
        const st = rig.device.stats;
        return `${made} connections, ${st.refusedConnections} refused, ${st.evictedConnections} evicted, ${st.handshakeTimeouts} handshake timeouts`;
      }),
  },
  {
    target: 'Huidu device (TCP 10001)',
    attack: 'mid-frame resets: half a packet (or half a 2 MiB call), then RST',
    run: (o) =>
      scenario(o, {}, async (rig, stop) => {
        const call = encodeSdkCall(
          new TextEncoder().encode(buildSdkRequest({ guid: '##GUID', method: 'GetIFVersion', body: 'x'.repeat(1e6) })),
        );
        let n = 0;
        const rounds = count(o.budget, 100, 2000);
        while (!stop.aborted && n < rounds) {
          const s = await connectFrom(rig.device.port, sourceOf(n));
          n++;
          if (!s) continue;
          s.write(encodePacket({ type: 'kSDKServiceAsk', version: 0x1000007 }));
          s.write(call.subarray(0, 1 + ((n * 7919) % (call.byteLength - 1))));
          await sleep(1, stop);
          s.resetAndDestroy();
        }
        return `${n} connections reset mid-frame; ${rig.device.stats.badPackets} bad packets counted`;
      }),
  },
  {
    target: 'Huidu device (TCP 10001)',
    attack: 'lying lengths: headers announcing more (or less) than sent, totals over 2 MiB',
    run: (o) =>
      scenario(o, {}, async (rig, stop) => {
        const lies = [
          new Uint8Array([0xff, 0xff, 0x03, 0x20]), // 65535 > 9 KiB
          new Uint8Array([0x02, 0x00, 0x5f, 0x00]), // shorter than the header
          new Uint8Array([0x00, 0x24, 0x03, 0x20, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]), // total 2 GiB
          new Uint8Array([0x10, 0x00, 0x03, 0x20, 0x00, 0x00, 0x20, 0x00, 0, 0, 0, 0, 1, 2, 3, 4]), // total 2 MiB, 4 bytes
          new Uint8Array([0x0c, 0x00, 0x01, 0x80]), // file start too short
        ];
        let n = 0;
        const rounds = count(o.budget, 100, 5000);
        while (!stop.aborted && n < rounds) {
          const s = await connectFrom(rig.device.port, sourceOf(n));
          if (!s) continue;
          s.write(encodePacket({ type: 'kSDKServiceAsk', version: 0x1000007 }));
          s.write(lies[n % lies.length]!);
          n++;
          await sleep(2, stop);
          s.destroy();
        }
        return `${n} lying packets; ${rig.device.stats.badPackets} bad packets, ${rig.device.stats.errorAnswers} error answers`;
      }),
  },
  {
    target: 'Huidu device (TCP 10001)',
    attack: 'ReDoS bodies: 2 MiB SetTimeInfo of <time in CDATA, repeated start tags and attributes',
    run: (o) =>
      scenario(o, {}, async (rig, stop) => {
        const bodies = [
          `<![CDATA[${'<time '.repeat(340_000)}]]>`,
          '<a x="1" '.repeat(230_000),
          '<a x="1"/>'.repeat(200_000),
          '&amp;'.repeat(400_000),
        ];
        let calls = 0;
        let refused = 0;
        const c = await SdkClient.connect('127.0.0.1', { port: rig.device.port, timeoutMs: 20_000 });
        try {
          while (!stop.aborted && calls < count(o.budget, 8, 100)) {
            const body = bodies[calls % bodies.length]!;
            calls++;
            await c.call('SetTimeInfo', body, { timeoutMs: 20_000 }).catch(() => refused++);
          }
        } finally {
          c.destroy();
        }
        return `${calls} hostile 2 MiB calls, ${refused} refused with a result or error answer`;
      }),
  },
  {
    target: 'Huidu device (UDP 10001)',
    attack: 'search reflection: a flood of 6-byte search asks',
    run: (o) => {
      let sent = 0;
      let received = 0;
      return scenario(
        o,
        {},
        async (rig, stop) => {
          const udp = createSocket('udp4');
          udp.on('message', (m) => {
            received += m.byteLength;
          });
          await new Promise<void>((r) => udp.bind(0, '127.0.0.2', () => r()));
          const ask = encodeSearchDatagram({ type: 'kSearchDeviceAsk', version: 0x1000007 });
          const total = count(o.budget, 2000, 100_000);
          while (!stop.aborted && sent < total * 6) {
            for (let i = 0; i < 50; i++) {
              udp.send(ask, rig.device.udpPort, '127.0.0.1');
              sent += ask.byteLength;
            }
            await sleep(1, stop);
          }
          await sleep(200);
          udp.close();
          return `${sent / 6} asks (${sent} B) -> ${received} B answered (${rig.device.stats.searchAsksLimited} limited)`;
        },
        () => ({ amplification: sent === 0 ? 0 : received / sent }),
      ).then((r) => ({ ...r, survived: r.survived && (r.amplification ?? 0) < 1 }));
    },
  },
  {
    target: 'Huidu device (UDP 10001)',
    attack: 'random and lying datagrams',
    run: (o) =>
      scenario(o, {}, async (rig, stop) => {
        const udp = createSocket('udp4');
        await new Promise<void>((r) => udp.bind(0, '127.0.0.2', () => r()));
        let n = 0;
        const total = count(o.budget, 2000, 200_000);
        let seed = 1;
        const rand = (): number => {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          return seed;
        };
        while (!stop.aborted && n < total) {
          for (let i = 0; i < 50; i++, n++) {
            const d = new Uint8Array(rand() % 1600);
            for (let k = 0; k < d.length; k++) d[k] = rand() & 0xff;
            if (d.length >= 6 && n % 3 === 0) d.set([0x07, 0, 0, 1, 0x01, 0x10]);
            udp.send(d, rig.device.udpPort, '127.0.0.1');
          }
          await sleep(1, stop);
        }
        udp.close();
        return `${n} datagrams; ${rig.device.stats.badDatagrams} counted bad`;
      }),
  },
  {
    target: 'Huidu host (SdkClient / cam sdk)',
    attack: 'fake controller: an endless answer whose chunks announce 2 GiB',
    run: (o) =>
      hostRow(
        o,
        (socket) => {
          let index = 0;
          flood(
            socket,
            () => {
              const data = new Uint8Array(9000);
              const p = encodePacket({ type: 'kSDKCmdAnswer', total: 0x7fffffff, index, data });
              index += data.byteLength;
              return p;
            },
            count(o.budget, 64, 1024) * 1024 * 1024,
          );
        },
        (c) => c.deviceInfo(),
      ),
  },
  {
    target: 'Huidu host (SdkClient / cam sdk)',
    attack: 'fake controller: a flood of unsolicited heartbeat answers and GPS packets',
    run: (o) =>
      hostRow(
        o,
        (socket) => {
          let n = 0;
          flood(
            socket,
            () =>
              n++ % 2
                ? encodePacket({ type: 'kTcpHeartbeatAnswer' })
                : encodePacket({ type: 'kGPSInfoAnswer', data: new Uint8Array(64) }),
            count(o.budget, 8, 256) * 1024 * 1024,
          );
        },
        (c) => c.deviceInfo({ timeoutMs: 5000 }),
      ),
  },
  {
    target: 'Huidu host (SdkClient / cam sdk)',
    attack: 'fake controller: read-back announcing 1 TiB, then endless content',
    run: (o) =>
      hostRow(
        o,
        (socket, req) => {
          if ('type' in req && req.type === 'kReadFileAsk') {
            socket.write(
              encodePacket({ type: 'kReadFileAnswer', status: 0, md5: 'ab'.repeat(16), size: 2 ** 40, fileType: 0 }),
            );
            flood(
              socket,
              () => encodePacket({ type: 'kFileContentAsk', data: new Uint8Array(9000) }),
              64 * 1024 * 1024,
            );
          }
        },
        (c) => c.readFile('x.png'),
      ),
  },
  {
    target: 'Huidu host (SdkClient / cam sdk)',
    attack: 'fake controller: a 2 MiB GetFiles answer of nested elements and repeated attributes',
    run: (o) =>
      hostRow(
        o,
        (socket, req) => {
          if (!('method' in req)) return;
          const body = `<files>${'<file name="a" md5="b" size="1" existSize="1" type="image"/>'.repeat(30_000)}</files>`;
          const xml = buildSdkResponse({ guid: 'ab'.repeat(16), method: req.method, result: 'kSuccess', body });
          socket.write(encodeSdkCall(new TextEncoder().encode(xml.slice(0, 2 * 1024 * 1024 - 100)), 'kSDKCmdAnswer'));
        },
        (c) => c.files(),
      ),
  },
];

export default scenarios;
