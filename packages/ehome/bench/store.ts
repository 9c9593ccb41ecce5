// Store benchmark (issue 16): many simulated devices online and alarms/s, each with one picture, for a while, on
// the embedded store or across several platform processes on one PostgreSQL. Every alarm's acknowledgement time is
// measured by the devices; afterwards the store is counted: every alarm and picture stored, alarms linked.
//   node --conditions=@cam/source --import tsx bench/store.ts [--mode embedded|postgres] [--processes 2]
//        [--devices 10000] [--rate 200] [--seconds 60] [--picture-kb 50] [--settle 10]
// the embedded store's worker thread runs from TypeScript sources here (no build needed)
import '../../../test-support/source-worker.js';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres, type TestPostgres } from '../../../test-support/postgres.js';
import { openStore } from '../src/index.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'embedded' },
    processes: { type: 'string', default: '1' },
    devices: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '60' },
    'picture-kb': { type: 'string', default: '50' },
    // seconds between the last device's registration and the first alarm: 10,000 devices online, KEEPALIVEs
    // flowing (the steady state of the figure); 0 starts the alarms in the registration storm's wake
    settle: { type: 'string', default: '10' },
  },
});
const mode = values.mode === 'postgres' ? 'postgres' : 'embedded';
const processes = mode === 'postgres' ? Number(values.processes) : 1;
// EHOME_BENCH_PROF=DIR: each child (platforms, load generator) writes a CPU profile there (slower: never quote
// a profiled run's figures).
const prof = process.env.EHOME_BENCH_PROF;
const execArgv = [
  '--conditions=@cam/source',
  '--import',
  'tsx',
  ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
];
const here = new URL('.', import.meta.url);
const root = mkdtempSync(join(tmpdir(), 'cam-store-bench-'));
let pg: TestPostgres | undefined;
const children: ChildProcess[] = [];

function message<T>(child: ChildProcess, cmd: string, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${cmd} within ${ms} ms`)), ms);
    const on = (m: { cmd: string }): void => {
      if (m.cmd !== cmd) return;
      clearTimeout(t);
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

try {
  if (mode === 'postgres') pg = await startPostgres({ database: 'bench' });
  const location = pg ? pg.url : join(root, 'store');
  interface Ready {
    port: number;
    alarmPort: number;
    picturePort: number;
    api: string;
  }
  const platforms: { child: ChildProcess; ready: Ready }[] = [];
  for (let i = 0; i < processes; i++) {
    const child = fork(new URL('store-platform.ts', here), [location, join(root, `data${i}`)], { execArgv });
    children.push(child);
    platforms.push({ child, ready: await message<Ready>(child, 'ready', 120_000) });
  }
  const load = fork(
    new URL('store-load.ts', here),
    [
      JSON.stringify({
        targets: platforms.map((p) => p.ready),
        count: Number(values.devices),
        rate: Number(values.rate),
        seconds: Number(values.seconds),
        pictureBytes: Number(values['picture-kb']) * 1024,
        settleSeconds: Number(values.settle),
      }),
    ],
    { execArgv },
  );
  children.push(load);
  const loadBefore = loadavg();
  const done = await message<Record<string, unknown>>(
    load,
    'done',
    (Number(values.seconds) + Number(values.settle) + 300) * 1000,
  );
  const loadAfter = loadavg();
  // Let linking finish (the alarm is complete once its picture is stored), then count.
  await new Promise((r) => setTimeout(r, 3000));
  const stats = await Promise.all(
    platforms.map((p) => {
      p.child.send({ cmd: 'stats' });
      return message<{
        online: number;
        maxRss: number;
        cpu: { user: number; system: number };
        stats: { alarms: number; alarmsNotStored: number };
      }>(p.child, 'stats', 10_000);
    }),
  );
  // Events visible from every API: the newest alarm of one device, asked of each process.
  const probeDevice = 'load000000';
  const visible: number[] = [];
  for (const p of platforms) {
    const r = (await (await fetch(`${p.ready.api}/api/events?type=alarm&device=${probeDevice}&limit=1000`)).json()) as {
      events: unknown[];
    };
    visible.push(r.events.length);
  }
  for (const p of platforms) {
    p.child.send({ cmd: 'exit' });
    await new Promise((r) => p.child.once('exit', r));
  }
  // PostgreSQL's own CPU (every `postgres` process on the machine: run it where no other PostgreSQL works)
  const postgresCpuS = pg ? postgresCpuSeconds() : undefined;
  const store = await openStore(location);
  let alarms = 0;
  let complete = 0;
  let after = 0;
  for (let page = 0; page < 100_000; page++) {
    const q = await store.queryEvents({ type: 'alarm', after, limit: 1000 });
    for (const e of q.events) {
      alarms++;
      if (e.body.complete === true) complete++;
    }
    if (q.next === null) break;
    after = q.next;
  }
  let media = 0;
  for (let id = 1; ; id++) {
    if (!(await store.media(id))) break;
    media++;
  }
  await store.close();
  const result = {
    mode,
    processes,
    devices: Number(values.devices),
    online: stats.reduce((a, s) => a + s.online, 0),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    settleSeconds: Number(values.settle),
    ...done,
    storedAlarms: alarms,
    completeAlarms: complete,
    storedPictures: media,
    alarmsNotStored: stats.reduce((a, s) => a + s.stats.alarmsNotStored, 0),
    visibleFromEachApi: visible,
    postgresCpuS,
    platformMaxRssMB: stats.map((s) => Math.round(s.maxRss / 1e6)),
    // CPU seconds (user + system, all threads) each platform process used from its start (store open, registration
    // and the alarms): a figure the machine's load disturbs much less than latency
    platformCpuS: stats.map((s) => Math.round((s.cpu.user + s.cpu.system) / 1e4) / 100),
    load1: [loadBefore[0], loadAfter[0]].map((x) => Math.round(x! * 100) / 100),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await pg?.stop();
  rmSync(root, { recursive: true, force: true });
}

/**
 * User + system CPU seconds of the processes named `postgres`, with their exited children (Linux /proc; clock
 * ticks of 1/100 s).
 */
function postgresCpuSeconds(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const fields = stat.slice(close + 2).split(' ');
      // utime, stime, and cutime, cstime: the backends that already exited, reaped by the postmaster
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // gone meanwhile
    }
  }
  return Math.round(ticks) / 100;
}
