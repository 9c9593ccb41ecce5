// Platform side of the store benchmark: one EhomeServer (+ HTTP API) on an embedded or PostgreSQL store, driven
// by bench/store.ts over IPC. Per-source limits are lifted: every simulated device sends from 127.0.0.1.
import { EhomeHttpApi, EhomeServer, openStore } from '../src/index.js';

const [location = '', dataDirectory = ''] = process.argv.slice(2);
const store = await openStore(location);
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
