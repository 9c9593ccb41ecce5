/**
 * Attack scenarios of @cam/ehome (contract: test-support/hostile-types.ts): the register (CMS), alarm (AMS),
 * picture and media servers of `EhomeServer`, each attacked from 127.0.0.2 while a legitimate simulated device on
 * 127.0.0.1 is checked during and after. Loopback only; every loop bounded in count and time.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';

import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortPool } from '@cam/net-utils';
import { floodInWorker } from '../../../test-support/attack.js';
import type { AttackOutcome, AttackScenario } from '../../../test-support/hostile-types.js';
import {
  EhomeDevice,
  EhomeDeviceMedia,
  EhomeHttpApi,
  EhomeServer,
  type EhomeServerOptions,
  encodeMessage,
  request,
} from '../src/index.js';

const ATTACKER = '127.0.0.2';
const LEGIT = '127.0.0.1';

const rssMiB = (): number => Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the scenarios share: a platform on loopback with its own data directory, closed by `dispose`. */
async function platform(options: EhomeServerOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ehome-attack-'));
  const server = new EhomeServer({
    address: LEGIT,
    port: 0,
    alarmPort: 0,
    picturePort: 0,
    dataDirectory: dir,
    requestAttemptMs: 300,
    takeoverProbeMs: 1000,
    ...options,
  });
  await server.listen();
  const devices: EhomeDevice[] = [];
  let n = 0;
  /**
   * A legitimate device: registers, answers a platform request, raises an alarm whose picture is stored. True when
   * all of it worked within a few seconds.
   */
  const legit = async (): Promise<boolean> => {
    const deviceId = `legit${++n}`;
    const dev = new EhomeDevice({
      server: { host: LEGIT, port: server.addresses().port },
      deviceId,
      localAddress: LEGIT,
      backoff: { initialMs: 50, maxMs: 300 },
      requestAttemptMs: 300,
    });
    devices.push(dev);
    try {
      await dev.start({ timeoutMs: 8000 });
      await server.device(deviceId).workStatus({ timeoutMs: 5000 });
      const stored = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 8000);
        const on = (e: { deviceId: string; pictures: unknown[] }): void => {
          if (e.deviceId !== deviceId) return;
          clearTimeout(t);
          server.off('alarm', on);
          resolve(e.pictures.length === 1);
        };
        server.on('alarm', on);
      });
      await dev.raiseAlarm({ pictures: 1, signal: AbortSignal.timeout(8000) });
      return await stored;
    } catch {
      return false;
    }
  };
  const dispose = async (): Promise<void> => {
    await Promise.allSettled(devices.map((d) => d.close()));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { server, legit, dispose };
}

async function udpFrom(address: string): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  s.on('error', () => {});
  return s;
}

/**
 * Sends `count` datagrams made by `make(i)` in batches of `batch` a millisecond or two apart (so the flood lasts
 * while the legitimate device is checked); stops early on `signal`. Returns bytes sent.
 */
async function flood(
  socket: UdpSocket,
  port: number,
  count: number,
  make: (i: number) => Uint8Array,
  signal: AbortSignal,
  batch = 20,
): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < count && !signal.aborted; i++) {
    const d = make(i);
    bytes += d.length;
    socket.send(d, port, LEGIT);
    if (i % batch === batch - 1) await sleep(1);
  }
  return bytes;
}
const batchOf = (budget: 'short' | 'full'): number => (budget === 'full' ? 200 : 20);

/** Deterministic pseudo-random bytes (xorshift), so a failing run can be replayed. */
function noise(seed: number, length: number): Uint8Array {
  let x = seed | 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const REGISTER = (deviceId: string, sequence: number): Uint8Array =>
  encodeMessage(
    request('REGISTER', sequence, {
      netUnitType: 'PU',
      deviceId,
      firmwareVersion: 'attack',
      localIp: ATTACKER,
      localPort: 1,
      devType: 1,
      manufacture: 0,
    }),
  );

/** Random, mutated and lying signals: garbage, flipped REGISTER/KEEPALIVE/ALARM, signals of unknown devices. */
export function hostileDatagram(i: number): Uint8Array {
  switch (i % 5) {
    case 0:
      return noise(i + 1, 1 + (i % 1600));
    case 1: {
      const b = Buffer.from(REGISTER(`x${i}`, i));
      const at = (i * 7) % b.length;
      b[at] = b[at]! ^ 0x20;
      return b;
    }
    case 2:
      return encodeMessage(request('KEEPALIVE', i, { deviceId: `ghost${i}` }));
    case 3:
      return encodeMessage(
        request('ALARM', i, {
          deviceId: `ghost${i}`,
          channel: 1,
          alarmType: 'MOTION',
          alarmTime: '2026-01-01 00:00:00',
          picIds: ['p'],
          needsResponse: 1,
        }),
      );
    default:
      // A "response" to a request never sent, and an oversized datagram.
      return i % 2 === 0
        ? Buffer.from(
            `<PPVSPMessage><Version>2.0</Version><Sequence>${i}</Sequence><CommandType>RESPONSE</CommandType><WhichCommand>GETDEVICEWORKSTATUS</WhichCommand><Status>200</Status><Params/></PPVSPMessage>`,
          )
        : new Uint8Array(4000).fill(0x3c);
  }
}

/** Runs the legit check while `attack` runs and once after it; the shared outcome. */
async function during(
  legit: () => Promise<boolean>,
  attack: () => Promise<string>,
  rssBefore: number,
): Promise<AttackOutcome> {
  const attacking = attack();
  await sleep(100);
  const duringOk = await legit();
  const detail = await attacking;
  await sleep(300);
  const afterOk = await legit();
  const rssAfter = rssMiB();
  return {
    survived: duringOk && afterOk,
    detail: `legit device during: ${duringOk ? 'ok' : 'FAILED'}, after: ${afterOk ? 'ok' : 'FAILED'}; ${detail}`,
    rssBeforeMiB: rssBefore,
    rssAfterMiB: rssAfter,
  };
}

function udpFloodScenario(server: 'register' | 'alarm'): AttackScenario {
  return {
    target: `EHome ${server} server (UDP)`,
    attack: 'flood of random, mutated and lying datagrams (unknown devices, unsolicited responses, 4000 B)',
    run: async ({ budget, signal }) => {
      const p = await platform();
      const attacker = await udpFrom(ATTACKER);
      let answered = 0;
      attacker.on('message', (m) => {
        answered += m.length;
      });
      try {
        const rssBefore = rssMiB();
        const port = server === 'register' ? p.server.addresses().port : p.server.addresses().alarmPort!;
        let sent = 0;
        const count = budget === 'full' ? 200_000 : 3000;
        const outcome = await during(
          p.legit,
          async () => {
            // the flood from a worker thread (an attacker is another machine, not a share of the platform's event
            // loop); a sample of the same datagrams from this thread measures what the platform answers
            const flooding = floodInWorker({
              module: import.meta.url,
              generator: 'hostileDatagram',
              port,
              count,
              address: ATTACKER,
              ratePerSecond: budget === 'full' ? 50_000 : 20_000,
              signal,
            });
            sent = await flood(attacker, port, Math.min(count, 1000), hostileDatagram, signal, batchOf(budget));
            const flooded = await flooding;
            await sleep(200);
            return `${count} datagrams (${flooded} bytes) from a worker, ${Math.min(count, 1000)} sampled for answers; ${p.server.stats.badDatagrams} bad datagrams dropped (${p.server.stats.implausibleDatagrams} by the byte pre-check), ${p.server.stats.datagrams} seen, ${p.server.registry.size} sessions`;
          },
          rssBefore,
        );
        outcome.amplification = sent === 0 ? 0 : answered / sent;
        outcome.detail += `; amplification ${outcome.amplification.toFixed(2)}x`;
        if (outcome.amplification >= 1) outcome.survived = false;
        return outcome;
      } finally {
        attacker.close();
        await p.dispose();
      }
    },
  };
}

/** A REGISTER of an invented DeviceID (for a flood in a worker thread). */
export function inventedRegister(i: number): Uint8Array {
  return REGISTER(`inv${i}`, i + 1);
}

const registerFlood: AttackScenario = {
  target: 'EHome register server (UDP)',
  attack: 'REGISTER flood from invented DeviceIDs',
  run: async ({ budget, signal }) => {
    const maxSessions = 1000;
    const p = await platform({ maxSessions, maxSessionsPerSource: 250 });
    const attacker = await udpFrom(ATTACKER);
    try {
      const rssBefore = rssMiB();
      const count = budget === 'full' ? 300_000 : 5000;
      return await during(
        p.legit,
        async () => {
          // from a worker thread: an attacker is another machine, not a share of the platform's own event loop
          await floodInWorker({
            module: import.meta.url,
            generator: 'inventedRegister',
            port: p.server.addresses().port,
            count,
            address: ATTACKER,
            ...(budget === 'full' ? { ratePerSecond: 50_000 } : { ratePerSecond: 20_000 }),
            signal,
          });
          await sleep(200);
          const s = p.server.stats;
          return `${count} REGISTERs: ${s.registersThrottled} throttled, ${s.sessionsRefused} over the session cap, ${p.server.registry.size} sessions (cap ${maxSessions})`;
        },
        rssBefore,
      ).then((o) => ({ ...o, survived: o.survived && p.server.registry.size <= maxSessions }));
    } finally {
      attacker.close();
      await p.dispose();
    }
  },
};

const takeover: AttackScenario = {
  target: 'EHome register server (UDP)',
  attack: 'session takeover: REGISTERs for an online DeviceID from another address',
  run: async ({ budget, signal }) => {
    const p = await platform();
    const attacker = await udpFrom(ATTACKER);
    const victim = new EhomeDevice({
      server: { host: LEGIT, port: p.server.addresses().port },
      deviceId: 'victim',
      localAddress: LEGIT,
      backoff: { initialMs: 50, maxMs: 300 },
    });
    try {
      await victim.start({ timeoutMs: 4000 });
      const home = victim.address();
      const rssBefore = rssMiB();
      let moved = 0;
      p.server.on('moved', () => moved++);
      const outcome = await during(
        p.legit,
        async () => {
          const rounds = budget === 'full' ? 200 : 20;
          for (let i = 0; i < rounds && !signal.aborted; i++) {
            attacker.send(REGISTER('victim', i + 1), p.server.addresses().port, LEGIT);
            await sleep(50);
          }
          await sleep(1200);
          return `${rounds} takeover REGISTERs: ${p.server.stats.registersHeld} held, session moved ${moved} times`;
        },
        rssBefore,
      );
      const s = p.server.registry.get('victim');
      const stayed = s?.address === LEGIT && s.port === home.port && moved === 0;
      const victimOk = await p.server
        .device('victim')
        .workStatus({ timeoutMs: 3000 })
        .then(
          () => true,
          () => false,
        );
      return {
        ...outcome,
        survived: outcome.survived && stayed && victimOk,
        detail: `${outcome.detail}; victim session ${stayed ? 'kept' : 'TAKEN'}, victim answers: ${victimOk}`,
      };
    } finally {
      attacker.close();
      await victim.close();
      await p.dispose();
    }
  },
};

/** Opens a TCP connection from the attacker address; errors are expected (the server closes on us). */
function attackerConnection(port: number): Socket {
  const s = connect({ host: LEGIT, port, localAddress: ATTACKER });
  s.on('error', () => {});
  return s;
}

const pictureSlowloris: AttackScenario = {
  target: 'EHome picture server (HTTP)',
  attack: 'slowloris: authorised uploads at 2 B/s, and connections that never finish their headers',
  run: async ({ budget, signal }) => {
    const p = await platform({ pictureLimits: { uploadGraceMs: 1000, minUploadBytesPerSecond: 1024 } });
    const reg = await udpFrom(ATTACKER);
    const sockets: Socket[] = [];
    let drip: ReturnType<typeof setInterval> | undefined;
    try {
      // The attacker is a registered device, so its uploads are authorised.
      reg.send(REGISTER('evil', 1), p.server.addresses().port, LEGIT);
      await sleep(200);
      const rssBefore = rssMiB();
      const picturePort = p.server.addresses().picturePort!;
      const n = budget === 'full' ? 200 : 64;
      return await during(
        p.legit,
        async () => {
          for (let i = 0; i < n && !signal.aborted; i++) {
            const s = attackerConnection(picturePort);
            if (i % 2 === 0) {
              s.write(
                `POST /ehome/pictures?DeviceID=evil&PicID=s${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n`,
              );
              s.write(Buffer.from([0xff, 0xd8, 0xff]));
            } else s.write('POST /ehome/pictures?DeviceID=evil'); // headers never finished
            sockets.push(s);
          }
          drip = setInterval(() => {
            for (const s of sockets) if (!s.destroyed) s.write(Buffer.from([0x41]));
          }, 500);
          await sleep(budget === 'full' ? 8000 : 3000);
          const pic = p.server.pictures!;
          const open = sockets.filter((s) => !s.destroyed).length;
          return `${n} slow connections: ${pic.slowUploadsCut} uploads cut below the minimum rate, ${pic.connectionsRefused} over the per-source limit, ${open} still open`;
        },
        rssBefore,
      );
    } finally {
      if (drip) clearInterval(drip);
      for (const s of sockets) s.destroy();
      reg.close();
      await p.dispose();
    }
  },
};

const pictureConnectionFlood: AttackScenario = {
  target: 'EHome picture server (HTTP)',
  attack: 'connection flood: idle connections, and requests reset mid-body',
  run: async ({ budget, signal }) => {
    const p = await platform();
    const sockets: Socket[] = [];
    try {
      const rssBefore = rssMiB();
      const port = p.server.addresses().picturePort!;
      const n = budget === 'full' ? 5000 : 500;
      return await during(
        p.legit,
        async () => {
          for (let i = 0; i < n && !signal.aborted; i++) {
            const s = attackerConnection(port);
            if (i % 3 === 0) {
              // A request reset in the middle of its body.
              s.write(
                `POST /ehome/pictures?DeviceID=ghost&PicID=p HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n`,
              );
              s.write(noise(i + 1, 100), () => s.resetAndDestroy());
            } else sockets.push(s);
            if (i % 50 === 49) await sleep(5);
          }
          await sleep(500);
          return `${n} connections: ${p.server.pictures!.connectionsRefused} closed over the per-source limit`;
        },
        rssBefore,
      );
    } finally {
      for (const s of sockets) s.destroy();
      await p.dispose();
    }
  },
};

/** A port range per process for the media scenario (the pool binds to check ports). */
let mediaBase = 49_500 + (process.pid % 100) * 10;

const mediaGarbage: AttackScenario = {
  target: 'EHome media port (TCP)',
  attack: 'foreign connections with garbage and mid-frame resets on a preview port',
  run: async ({ budget, signal }) => {
    const mediaPorts = new PortPool({ min: mediaBase, max: mediaBase + 9, host: LEGIT });
    mediaBase += 10;
    const p = await platform({ mediaPorts, mediaAddress: LEGIT });
    const media = new EhomeDeviceMedia({ width: 32, height: 32, fps: 50 });
    const cam = new EhomeDevice({
      server: { host: LEGIT, port: p.server.addresses().port },
      deviceId: 'cam',
      localAddress: LEGIT,
      backoff: { initialMs: 50, maxMs: 300 },
      mediaHandler: media.handler,
    });
    const preview = async (): Promise<number> => {
      const stream = await p.server.device('cam').preview({ channel: 1, stream: 'main' });
      let n = 0;
      try {
        const deadline = Date.now() + 3000;
        for await (const _ of stream) if (++n >= 10 || Date.now() > deadline) break;
      } finally {
        await stream.stop();
      }
      return n;
    };
    try {
      await cam.start({ timeoutMs: 4000 });
      const rssBefore = rssMiB();
      const stream = await p.server.device('cam').preview({ channel: 1, stream: 'main' });
      const rounds = budget === 'full' ? 500 : 50;
      let refused = 0;
      for (let i = 0; i < rounds && !signal.aborted; i++) {
        const s = attackerConnection(stream.port);
        s.on('close', () => refused++);
        s.write(Buffer.concat([Buffer.from([0x24, 0x00, 0xff, 0xff]), noise(i + 1, 300)]), () => s.resetAndDestroy());
        if (i % 10 === 9) await sleep(5);
      }
      let during = 0;
      const deadline = Date.now() + 3000;
      for await (const _ of stream) if (++during >= 10 || Date.now() > deadline) break;
      await stream.stop();
      await sleep(200);
      const after = await preview();
      return {
        survived: during >= 10 && after >= 10,
        detail: `${rounds} foreign connections (${refused} closed); preview during: ${during} access units, after: ${after}`,
        rssBeforeMiB: rssBefore,
        rssAfterMiB: rssMiB(),
      };
    } finally {
      await cam.close();
      await media.close();
      await p.dispose();
      await mediaPorts.close();
    }
  },
};

const apiSlowloris: AttackScenario = {
  target: 'EHome HTTP API (TCP)',
  attack: 'slowloris and connection flood: unfinished headers, 1 B/s bodies, idle connections',
  run: async ({ budget, signal }) => {
    const p = await platform();
    const api = new EhomeHttpApi(p.server, { port: 0, maxConnectionsPerSource: 32 });
    const sockets: Socket[] = [];
    let drip: ReturnType<typeof setInterval> | undefined;
    try {
      const { port } = await api.listen();
      const rssBefore = rssMiB();
      const n = budget === 'full' ? 2000 : 200;
      // The legitimate client: a device works (legit) and the API answers for it.
      const legit = async (): Promise<boolean> => {
        if (!(await p.legit())) return false;
        try {
          const res = await fetch(`${api.url}/api/devices`, { signal: AbortSignal.timeout(5000) });
          return res.ok && ((await res.json()) as unknown[]).length > 0;
        } catch {
          return false;
        }
      };
      return await during(
        legit,
        async () => {
          for (let i = 0; i < n && !signal.aborted; i++) {
            const s = attackerConnection(port);
            if (i % 3 === 0)
              s.write('GET /api/devices HTTP/1.1\r\nHost: x\r\n'); // headers never end
            else if (i % 3 === 1) {
              s.write('PUT /api/devices/x/config/A HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n{');
            }
            sockets.push(s);
            if (i % 50 === 49) await sleep(5);
          }
          drip = setInterval(() => {
            for (const s of sockets) if (!s.destroyed) s.write(' ');
          }, 500);
          await sleep(budget === 'full' ? 5000 : 1500);
          const open = sockets.filter((s) => !s.destroyed).length;
          return `${n} attacker connections: ${api.connectionsRefused} closed over the per-source limit, ${open} open`;
        },
        rssBefore,
      );
    } finally {
      if (drip) clearInterval(drip);
      for (const s of sockets) s.destroy();
      await api.close();
      await p.dispose();
    }
  },
};

const scenarios: AttackScenario[] = [
  udpFloodScenario('register'),
  udpFloodScenario('alarm'),
  registerFlood,
  takeover,
  pictureSlowloris,
  pictureConnectionFlood,
  mediaGarbage,
  apiSlowloris,
];

export default scenarios;
