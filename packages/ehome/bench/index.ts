// EHome platform benchmark: one server process against N simulated devices in a second process, on loopback.
// Measures: time for all devices to register, server CPU per KEEPALIVE, server heap per online device, offline
// detection delay. Plus codec micro-benchmarks in this process. Bounded: every phase has a deadline.
//   pnpm --filter @cam/ehome bench            (10,000 devices)
//   EHOME_BENCH_DEVICES=2000 pnpm --filter @cam/ehome bench
import { type ChildProcess, fork } from 'node:child_process';
import { cpus } from 'node:os';
import { decodeMessage, EhomeServer, encodeMessage, request, response } from '../src/index.js';

const DEVICES = Number(process.env.EHOME_BENCH_DEVICES ?? 10_000);
const SILENCED = Math.min(100, Math.floor(DEVICES / 10));
const HEARTBEAT_MS = 1000; // devices heartbeat every second (above the nominal rate) to load the server
const here = new URL('.', import.meta.url);
const execArgv = ['--conditions=@cam/source', '--import', 'tsx', '--expose-gc'];

type Msg = { cmd: string } & Record<string, unknown>;

function waitFor(child: ChildProcess, cmd: string, ms: number): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', on);
      reject(new Error(`no "${cmd}" from child within ${ms} ms`));
    }, ms);
    const on = (m: Msg): void => {
      if (m.cmd === cmd) {
        clearTimeout(timer);
        child.off('message', on);
        resolve(m);
      } else if (m.cmd === 'failed') {
        clearTimeout(timer);
        child.off('message', on);
        reject(new Error(`devices failed: ${JSON.stringify(m)}`));
      }
    };
    child.on('message', on);
  });
}

async function ask(child: ChildProcess, cmd: string, ms = 10_000): Promise<Msg> {
  const p = waitFor(child, cmd, ms);
  child.send({ cmd });
  return p;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// CPU per KEEPALIVE is taken over WINDOWS back-to-back windows of WINDOW_MS each, for the server and for the echo
// floor alike; the figure is the median window, with the smallest and largest beside it.
const WINDOWS = Number(process.env.EHOME_BENCH_WINDOWS ?? 5);
const WINDOW_MS = 2000;

interface CpuFigures {
  /** Median over the windows of (user + system) CPU microseconds per datagram answered. */
  usPerDatagram: number;
  min: number;
  max: number;
  userUs: number;
  systemUs: number;
  windows: number[];
  datagrams: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round2 = (x: number): number => Number(x.toFixed(2));

/** CPU of `child` (its own `process.cpuUsage()`, user + system) per datagram it answered, window by window. */
async function cpuWindows(child: ChildProcess): Promise<CpuFigures> {
  const total: number[] = [];
  const user: number[] = [];
  const system: number[] = [];
  let datagrams = 0;
  let a = await ask(child, 'snapshot');
  for (let w = 0; w < WINDOWS; w++) {
    await sleep(WINDOW_MS);
    const b = await ask(child, 'snapshot');
    const ca = a.cpu as NodeJS.CpuUsage;
    const cb = b.cpu as NodeJS.CpuUsage;
    const n = (b.keepalives as number) - (a.keepalives as number);
    datagrams += n;
    user.push((cb.user - ca.user) / n);
    system.push((cb.system - ca.system) / n);
    total.push((cb.user + cb.system - ca.user - ca.system) / n);
    a = b;
  }
  return {
    usPerDatagram: round2(median(total)),
    min: round2(Math.min(...total)),
    max: round2(Math.max(...total)),
    userUs: round2(median(user)),
    systemUs: round2(median(system)),
    windows: total.map(round2),
    datagrams,
  };
}

function micro(): Record<string, number> {
  const ka = encodeMessage(request('KEEPALIVE', 7, { deviceId: 'bench000001' }, { encoding: 'GB2312' }));
  const reg = encodeMessage(
    request(
      'REGISTER',
      1,
      {
        netUnitType: 'PU',
        deviceId: 'bench000001',
        firmwareVersion: 'V5.4.5 build 170124',
        localIp: '127.0.0.1',
        localPort: 8000,
        devType: 1,
        manufacture: 0,
      },
      { encoding: 'GB2312' },
    ),
  );
  const kaReq = request('KEEPALIVE', 7, { deviceId: 'bench000001' });
  const kaRes = response(kaReq, 200, 'OK', {});
  const time = (n: number, f: () => void): number => {
    for (let i = 0; i < 2000; i++) f();
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    return Number(process.hrtime.bigint() - t) / n / 1000;
  };
  return {
    decodeKeepaliveUs: time(100_000, () => decodeMessage(ka)),
    encodeKeepaliveReplyUs: time(100_000, () => encodeMessage(kaRes)),
    decodeRegisterUs: time(20_000, () => decodeMessage(reg)),
  };
}

/** The platform's own work per KEEPALIVE (decode, session lookup, reply encode) with socket I/O stubbed out. */
async function inProcess(): Promise<{ usPerKeepalive: number; sessions: number }> {
  const server = new EhomeServer({ address: '127.0.0.1', port: 0, alarmPort: false, picturePort: false });
  await server.listen();
  const internals = server as unknown as {
    cms: { send: (...a: unknown[]) => void };
    onCmsDatagram: (b: Buffer, r: { address: string; port: number; family: string; size: number }) => void;
  };
  internals.cms.send = () => {};
  const n = 10_000;
  const keepalives: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const deviceId = `bench${String(i).padStart(6, '0')}`;
    const rinfo = { address: '127.0.0.1', port: 10_000 + i, family: 'IPv4', size: 0 };
    const reg = request(
      'REGISTER',
      1,
      {
        netUnitType: 'PU',
        deviceId,
        firmwareVersion: 'V5',
        localIp: '127.0.0.1',
        localPort: 1,
        devType: 1,
        manufacture: 0,
      },
      { encoding: 'GB2312' },
    );
    internals.onCmsDatagram(Buffer.from(encodeMessage(reg)), rinfo);
    keepalives.push(Buffer.from(encodeMessage(request('KEEPALIVE', 2, { deviceId }, { encoding: 'GB2312' }))));
  }
  const rounds = 20;
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++)
      internals.onCmsDatagram(keepalives[i]!, { address: '127.0.0.1', port: 10_000 + i, family: 'IPv4', size: 0 });
  }
  const c = process.cpuUsage(c0);
  const sessions = server.registry.size;
  await server.close();
  return { usPerKeepalive: Number(((c.user + c.system) / (rounds * n)).toFixed(2)), sessions };
}

/** CPU per datagram of a bare node:dgram echo under the same load: the floor any Node UDP server pays. */
async function echoFloor(): Promise<CpuFigures> {
  const echo = fork(new URL('echo-server.ts', here), [], { execArgv });
  let devices: ChildProcess | undefined;
  try {
    const ready = await waitFor(echo, 'ready', 20_000);
    devices = fork(
      new URL('devices.ts', here),
      ['127.0.0.1', String(ready.port), String(DEVICES), String(HEARTBEAT_MS)],
      { execArgv },
    );
    await waitFor(devices, 'registered', 60_000);
    await ask(echo, 'steady'); // from now on it answers with the server's KEEPALIVE answer bytes
    // The same steps as the server run between registration and the CPU windows.
    await sleep(1500);
    await ask(echo, 'memory');
    return await cpuWindows(echo);
  } finally {
    devices?.send({ cmd: 'exit' });
    echo.send({ cmd: 'exit' });
    await sleep(300);
    devices?.kill();
    echo.kill();
  }
}

async function main(): Promise<Record<string, unknown>> {
  const started = Date.now();
  const codec = micro();
  const platformWork = await inProcess();
  const server = fork(new URL('server.ts', here), [], {
    execArgv: [
      ...execArgv,
      ...(process.env.EHOME_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.EHOME_BENCH_PROF}`] : []),
    ],
    env: { ...process.env, EHOME_BENCH_KEEPALIVE: '2', EHOME_BENCH_MISSED: '3' },
  });
  let devices: ChildProcess | undefined;
  try {
    const ready = await waitFor(server, 'ready', 20_000);
    const port = ready.port as number;
    const timeoutMs = (ready.keepAliveSeconds as number) * (ready.offlineAfterMissed as number) * 1000;
    const base = await ask(server, 'memory');

    devices = fork(new URL('devices.ts', here), ['127.0.0.1', String(port), String(DEVICES), String(HEARTBEAT_MS)], {
      execArgv,
    });
    await waitFor(devices, 'bound', 60_000);
    const reg = await waitFor(devices, 'registered', 40_000);
    await sleep(1500);
    const afterReg = await ask(server, 'memory');

    // Steady heartbeat load: CPU of the server process per KEEPALIVE, window by window.
    const cpu = await cpuWindows(server);

    // Offline detection: silence some devices, see when the server declares them offline.
    const silenced = waitFor(devices, 'silenced', 5000);
    devices.send({ cmd: 'silence', n: SILENCED });
    await silenced;
    await sleep(timeoutMs + 3000);
    const off = (await ask(server, 'offline')).offline as { deviceId: string; at: number; lastSeen: number }[];
    const delays = off.map((o) => o.at - o.lastSeen - timeoutMs);
    const online = (await ask(server, 'snapshot')).online as number;

    const result = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      devices: DEVICES,
      registerAllMs: Math.round(reg.ms as number),
      keepalivesMeasured: cpu.datagrams,
      keepalivesPerSecond: Math.round(cpu.datagrams / ((WINDOWS * WINDOW_MS) / 1000)),
      cpuUsPerKeepalive: cpu.usPerDatagram,
      cpuUsPerKeepaliveMinMax: [cpu.min, cpu.max],
      userUsPerKeepalive: cpu.userUs,
      systemUsPerKeepalive: cpu.systemUs,
      cpuUsPerKeepaliveWindows: cpu.windows,
      heapBytesPerDevice: Math.round(((afterReg.heap as number) - (base.heap as number)) / DEVICES),
      rssBytesPerDevice: Math.round(((afterReg.rss as number) - (base.rss as number)) / DEVICES),
      badDatagrams: (await ask(server, 'snapshot')).bad,
      offline: {
        nominalTimeoutMs: timeoutMs,
        silenced: SILENCED,
        detected: off.length,
        stillOnline: online,
        extraDelayMsMean: Math.round(delays.reduce((x, y) => x + y, 0) / Math.max(1, delays.length)),
        extraDelayMsMax: Math.max(0, ...delays),
      },
      platformWorkWithoutSockets: platformWork,
      codec,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    return result;
  } finally {
    devices?.send({ cmd: 'exit' });
    server.send({ cmd: 'exit' });
    // Let the server exit by itself (a --cpu-prof profile is written at exit), then make sure.
    await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
    devices?.kill();
    server.kill();
  }
}

const guard = setTimeout(() => {
  process.stderr.write('benchmark exceeded 110 s, stopping\n');
  process.exit(1);
}, 110_000);
guard.unref();
const result = await main();
// After the platform run, so the two loads never overlap.
result.echoFloor = await echoFloor();
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
