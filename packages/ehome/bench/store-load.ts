// Device side of the store benchmark: registers `count` devices (one UDP socket each, KEEPALIVE every 30 s), then
// raises `rate` alarms per second for `seconds`, each followed by one `pictureBytes` JPEG upload, and measures each
// alarm's acknowledgement time (ALARM sent -> 200 answer). Uses the codec directly to stay light.
import { createSocket, type Socket } from 'node:dgram';
import { Agent, request as httpRequest } from 'node:http';
import { decodeMessage, encodeMessage, formatEhomeTime, request } from '../src/index.js';

interface Target {
  port: number;
  alarmPort: number;
  picturePort: number;
}
const cfg = JSON.parse(process.argv[2] ?? '{}') as {
  targets: Target[];
  count: number;
  rate: number;
  seconds: number;
  pictureBytes: number;
  /** Seconds to wait, devices online and KEEPALIVEs going, before the first alarm (default 0). */
  settleSeconds?: number;
};
const host = '127.0.0.1';

function bind(s: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, host, () => {
      s.off('error', reject);
      resolve();
    });
  });
}

// ---- registration ----------------------------------------------------------------------------------------
const devices: { id: string; socket: Socket; target: Target; registered: boolean; keepalive: Uint8Array }[] = [];
let registered = 0;
for (let i = 0; i < cfg.count; i++) {
  const id = `load${String(i).padStart(6, '0')}`;
  const socket = createSocket('udp4');
  await bind(socket);
  const target = cfg.targets[i % cfg.targets.length]!;
  const d = {
    id,
    socket,
    target,
    registered: false,
    keepalive: encodeMessage(request('KEEPALIVE', 2, { deviceId: id })),
  };
  socket.on('message', (msg) => {
    if (!d.registered && msg.includes('REGISTER') && msg.includes('<Status>200</Status>')) {
      d.registered = true;
      registered++;
    }
  });
  devices.push(d);
}
const registerBytes = (d: (typeof devices)[number]): Uint8Array =>
  encodeMessage(
    request('REGISTER', 1, {
      netUnitType: 'PU',
      deviceId: d.id,
      firmwareVersion: 'V5.6.0 build 200101',
      localIp: host,
      localPort: d.socket.address().port,
      devType: 1,
      manufacture: 0,
    }),
  );
const regStart = performance.now();
for (let round = 0; round < 20 && registered < cfg.count; round++) {
  let inFlight = 0;
  for (const d of devices) {
    if (d.registered) continue;
    d.socket.send(registerBytes(d), d.target.port, host);
    if (++inFlight % 500 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  const until = performance.now() + 3000;
  while (registered < cfg.count && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
}
const registerMs = performance.now() - regStart;
// Heartbeats every 30 s, spread evenly.
let hb = 0;
const hbTimer = setInterval(() => {
  const per = Math.ceil(cfg.count / 300);
  for (let k = 0; k < per; k++) {
    const d = devices[hb++ % cfg.count]!;
    d.socket.send(d.keepalive, d.target.port, host);
  }
}, 100);

// Devices online, KEEPALIVEs flowing: the alarms start once the registration storm has settled (`settleSeconds`).
await new Promise((r) => setTimeout(r, Math.max(0, cfg.settleSeconds ?? 0) * 1000));

// ---- alarms + pictures -----------------------------------------------------------------------------------
const amsSockets = new Map<number, Socket>();
for (const t of cfg.targets) {
  const s = createSocket('udp4');
  await bind(s);
  amsSockets.set(t.alarmPort, s);
}
const sentAt = new Map<number, number>();
const ackMs: number[] = [];
let acked = 0;
let resends = 0;
for (const s of amsSockets.values()) {
  s.on('message', (msg) => {
    try {
      const m = decodeMessage(msg);
      const t = sentAt.get(m.sequence);
      if (m.kind === 'response' && t !== undefined && m.status === 200) {
        sentAt.delete(m.sequence);
        ackMs.push(performance.now() - t);
        acked++;
      }
    } catch {
      // not ours
    }
  });
}
const jpeg = new Uint8Array(cfg.pictureBytes);
jpeg.set([0xff, 0xd8, 0xff, 0xe0]);
jpeg.set([0xff, 0xd9], jpeg.length - 2);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
let uploadsOk = 0;
let uploadsFailed = 0;
/** Why uploads failed (status or error), the first few: a failure must be explained, not only counted. */
const uploadFailures: string[] = [];
const failed = (why: string): void => {
  uploadsFailed++;
  if (uploadFailures.length < 5) uploadFailures.push(why);
};
const uploadMs: number[] = [];
let uploadRetries = 0;
/**
 * One picture upload over a keep-alive connection. A request written to a pooled connection that the server has
 * just closed as idle (its 5 s keep-alive timeout racing the reuse) fails on `reusedSocket` with a reset or "socket
 * hang up": the race Node's http documentation describes. It is retried once, on a new connection, as HTTP clients
 * do (undici, which the simulated device uses, avoids the race by honouring the server's Keep-Alive hint); the
 * platform links a re-upload of a PicID like the first. Every other failure counts, with its reason.
 */
function upload(d: (typeof devices)[number], picId: string, retry = true): Promise<void> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host,
        port: d.target.picturePort,
        method: 'POST',
        path: `/ehome/pictures?DeviceID=${d.id}&PicID=${picId}&Channel=1`,
        // the retry on a new connection of its own (the pool's other idle connections may be as stale)
        agent: retry ? agent : false,
        headers: { 'content-type': 'image/jpeg', 'content-length': jpeg.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) {
            uploadsOk++;
            uploadMs.push(performance.now() - t0);
          } else failed(`HTTP ${res.statusCode}`);
          resolve();
        });
      },
    );
    req.on('error', (e) => {
      const code = (e as NodeJS.ErrnoException).code;
      if (retry && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
        uploadRetries++;
        resolve(upload(d, picId, false));
        return;
      }
      failed(`${code ?? ''} ${e.message}${req.reusedSocket ? ' (reused connection)' : ''}`);
      resolve();
    });
    req.end(jpeg);
  });
}

// Alarms come from registered devices only (an unregistered one is answered 403, as it should be).
const online = devices.filter((d) => d.registered);
const total = cfg.rate * cfg.seconds;
let seq = 1000;
let sent = 0;
const uploads: Promise<void>[] = [];
const start = performance.now();
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * cfg.rate));
  while (sent < due) {
    const d = online[(sent * 7919) % online.length]!;
    const picId = `P${sent}`;
    const sequence = ++seq;
    const bytes = encodeMessage(
      request('ALARM', sequence, {
        deviceId: d.id,
        channel: 1,
        alarmType: 'MOTION',
        alarmTime: formatEhomeTime(new Date()),
        picIds: [picId],
        needsResponse: 1,
      }),
    );
    sentAt.set(sequence, performance.now());
    const socket = amsSockets.get(d.target.alarmPort)!;
    socket.send(bytes, d.target.alarmPort, host);
    // Unanswered: resent after 1, 2 and 3 s as a device does (the ack time counts from the first send).
    for (const after of [1000, 2000, 3000]) {
      setTimeout(() => {
        if (sentAt.has(sequence)) {
          resends++;
          socket.send(bytes, d.target.alarmPort, host);
        }
      }, after).unref();
    }
    uploads.push(upload(d, picId));
    sent++;
  }
  await new Promise((r) => setTimeout(r, 5));
}
const sendMs = performance.now() - start;
await Promise.all(uploads);
const drainUntil = performance.now() + 10_000;
while (acked < sent && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
clearInterval(hbTimer);
const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
};
process.send?.({
  cmd: 'done',
  registered,
  registerMs,
  sent,
  acked,
  resends,
  sendMs,
  ackP50: q(ackMs, 0.5),
  ackP99: q(ackMs, 0.99),
  ackMax: q(ackMs, 1),
  uploadsOk,
  uploadsFailed,
  uploadFailures,
  uploadRetries,
  uploadP99: q(uploadMs, 0.99),
});
for (const d of devices) d.socket.close();
for (const s of amsSockets.values()) s.close();
agent.destroy();
setTimeout(() => process.exit(0), 100);
