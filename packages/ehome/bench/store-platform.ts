// Platform side of the store benchmark: one EhomeServer (+ HTTP API) on an embedded or PostgreSQL store, driven
// by bench/store.ts over IPC. Per-source limits are lifted: every simulated device sends from 127.0.0.1.
// the embedded store's worker thread runs from TypeScript sources here (no build needed)
import '../../../test-support/source-worker.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EhomeHttpApi, EhomeServer, openStore } from '../src/index.js';

const [location = '', dataDirectory = ''] = process.argv.slice(2);
const store = await openStore(location);

// Per-stage timings (EHOME_BENCH_STAGES=1): once a second, to stderr, the event loop's delay and how long the
// alarms and pictures of that second waited from the store call (the datagram's or upload's handler: the ALARM is
// decoded and handed to the store synchronously on arrival) to their commit, after which the answer is sent at once.
const stages = process.env.EHOME_BENCH_STAGES === '1';
const waits = { alarm: [] as number[], media: [] as number[] };
if (stages) {
  for (const name of ['appendAlarm', 'addMedia'] as const) {
    const original = store[name].bind(store) as (...a: unknown[]) => Promise<unknown>;
    const bucket = name === 'appendAlarm' ? waits.alarm : waits.media;
    (store as unknown as Record<string, unknown>)[name] = async (...a: unknown[]) => {
      const t = performance.now();
      try {
        return await original(...a);
      } finally {
        bucket.push(performance.now() - t);
      }
    };
  }
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();
  const pct = (xs: number[], p: number): number => {
    const s = [...xs].sort((x, y) => x - y);
    return s.length === 0 ? 0 : Math.round(s[Math.min(s.length - 1, Math.floor(s.length * p))]! * 10) / 10;
  };
  setInterval(() => {
    const line = {
      t: Math.round((performance.now() - started) / 1000),
      loopP99ms: Math.round(loop.percentile(99) / 1e5) / 10,
      loopMaxMs: Math.round(loop.max / 1e5) / 10,
      alarms: waits.alarm.length,
      alarmCommitP50: pct(waits.alarm, 0.5),
      alarmCommitMax: pct(waits.alarm, 1),
      pictures: waits.media.length,
      pictureCommitMax: pct(waits.media, 1),
      store: (store as unknown as { writeStats?: unknown }).writeStats,
      rssMB: Math.round(process.memoryUsage().rss / 1e6),
    };
    waits.alarm.length = 0;
    waits.media.length = 0;
    loop.reset();
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }, 1000).unref();
}
const server = new EhomeServer({
  address: '127.0.0.1',
  port: 0,
  alarmPort: 0,
  picturePort: 0,
  dataDirectory,
  store,
  keepAliveSeconds: 30,
  recvBufferSize: 8 * 1024 * 1024,
  maxSessionsPerSource: Number.POSITIVE_INFINITY,
  registerRate: { perSecond: Number.POSITIVE_INFINITY, burst: Number.POSITIVE_INFINITY },
  maxStoredBytes: 8 * 1024 ** 3,
  pictureLimits: {
    maxConcurrentUploads: 1024,
    maxUploadsPerSource: 1024,
    maxConnectionsPerSource: 4096,
    maxConnections: 4096,
  },
});
const api = new EhomeHttpApi(server, { port: 0 });
let maxRss = 0;
const rssTimer = setInterval(() => {
  maxRss = Math.max(maxRss, process.memoryUsage().rss);
}, 500);

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'stats') {
    process.send?.({
      cmd: 'stats',
      online: server.registry.size,
      stats: server.stats,
      pictures: server.pictures?.stored ?? 0,
      rss: process.memoryUsage().rss,
      maxRss,
      cpu: process.cpuUsage(),
    });
  } else if (m.cmd === 'exit') {
    clearInterval(rssTimer);
    void (async () => {
      await api.close();
      await server.close();
      await store.close();
      process.exit(0);
    })();
  }
});

const ports = await server.listen();
await api.listen();
process.send?.({ cmd: 'ready', ...ports, api: api.url, store: store.kind });
