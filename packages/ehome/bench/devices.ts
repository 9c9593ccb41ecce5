// Device side of the EHome benchmark: many simulated devices (one UDP socket each) in one process. They use the
// codec directly rather than EhomeDevice so the process stays light enough to load the server, not itself.
import { createSocket, type Socket } from 'node:dgram';
import { encodeMessage, request } from '../src/index.js';

const [host = '127.0.0.1', portText = '7660', countText = '10000', intervalText = '1000'] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const intervalMs = Number(intervalText);
const OK = Buffer.from('<Status>200</Status>');
const REGISTER_WHICH = Buffer.from('<WhichCommand>REGISTER</WhichCommand>');

interface Sim {
  id: string;
  socket: Socket;
  registered: boolean;
  heartbeat: boolean;
  keepalive: Uint8Array;
  register: Uint8Array;
}

const sims: Sim[] = [];
let registered = 0;
let replies = 0;
let firstSend = 0;
let allRegisteredAt = 0;

function bind(s: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      s.off('error', reject);
      resolve();
    });
  });
}

for (let i = 0; i < count; i++) {
  const id = `bench${String(i).padStart(6, '0')}`;
  const socket = createSocket('udp4');
  await bind(socket);
  const sim: Sim = {
    id,
    socket,
    registered: false,
    heartbeat: true,
    keepalive: encodeMessage(request('KEEPALIVE', 2, { deviceId: id }, { encoding: 'GB2312' })),
    register: encodeMessage(
      request(
        'REGISTER',
        1,
        {
          netUnitType: 'PU',
          deviceId: id,
          firmwareVersion: 'V5.4.5 build 170124',
          localIp: '127.0.0.1',
          localPort: socket.address().port,
          devType: 1,
          manufacture: 0,
        },
        { encoding: 'GB2312' },
      ),
    ),
  };
  socket.on('message', (msg) => {
    replies++;
    if (!sim.registered && msg.includes(REGISTER_WHICH) && msg.includes(OK)) {
      sim.registered = true;
      if (++registered === count) {
        allRegisteredAt = performance.now();
        process.send?.({ cmd: 'registered', ms: allRegisteredAt - firstSend });
        startHeartbeats();
      }
    }
  });
  sims.push(sim);
}
process.send?.({ cmd: 'bound', count });

// Registration: at most WINDOW outstanding, unanswered ones resent after 1 s. Bounded: gives up after 30 s.
async function registerAll(): Promise<void> {
  const WINDOW = 500;
  firstSend = performance.now();
  let next = 0;
  let lastScan = firstSend;
  const sentAt = new Float64Array(count);
  while (registered < count) {
    const now = performance.now();
    if (now - firstSend > 30_000) {
      process.send?.({ cmd: 'failed', registered });
      return;
    }
    if (now - lastScan > 250) {
      lastScan = now;
      for (let i = 0; i < next; i++) {
        const s = sims[i]!;
        if (!s.registered && now - sentAt[i]! > 1000) {
          sentAt[i] = now;
          s.socket.send(s.register, port, host);
        }
      }
    }
    // `registered` counts replies in order of arrival; outstanding = sent - registered.
    while (next < count && next - registered < WINDOW) {
      const s = sims[next]!;
      sentAt[next] = now;
      s.socket.send(s.register, port, host);
      next++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

// Heartbeats: every device every `intervalMs`, spread evenly in 10 ms slices.
let timer: ReturnType<typeof setInterval> | undefined;
function startHeartbeats(): void {
  const slices = Math.max(1, Math.round(intervalMs / 10));
  const perSlice = Math.ceil(count / slices);
  let slice = 0;
  timer = setInterval(() => {
    const start = slice * perSlice;
    for (let i = start; i < Math.min(count, start + perSlice); i++) {
      const s = sims[i]!;
      if (s.heartbeat) s.socket.send(s.keepalive, port, host);
    }
    slice = (slice + 1) % slices;
  }, 10);
}

process.on('message', (m: { cmd: string; n?: number }) => {
  if (m.cmd === 'silence') {
    for (let i = 0; i < (m.n ?? 0); i++) sims[i]!.heartbeat = false;
    process.send?.({ cmd: 'silenced', at: Date.now() });
  } else if (m.cmd === 'exit') {
    if (timer) clearInterval(timer);
    for (const s of sims) s.socket.close();
    process.send?.({ cmd: 'stats', replies });
    setTimeout(() => process.exit(0), 50);
  }
});

await registerAll();
