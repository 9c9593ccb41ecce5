// Server side of the EHome benchmark: one EhomeServer process, driven by bench/index.ts over IPC.
import { EhomeServer } from '../src/index.js';

const keepAliveSeconds = Number(process.env.EHOME_BENCH_KEEPALIVE ?? 2);
const offlineAfterMissed = Number(process.env.EHOME_BENCH_MISSED ?? 3);
const server = new EhomeServer({
  address: '127.0.0.1',
  port: 0,
  alarmPort: false,
  picturePort: false,
  keepAliveSeconds,
  offlineAfterMissed,
  recvBufferSize: 8 * 1024 * 1024,
  // Every simulated device sends from 127.0.0.1: the per-source limits, meant for real networks, are lifted.
  maxSessionsPerSource: Number.POSITIVE_INFINITY,
  registerRate: { perSecond: Number.POSITIVE_INFINITY, burst: Number.POSITIVE_INFINITY },
});
const offline: { deviceId: string; at: number; lastSeen: number }[] = [];
server.on('offline', (e) => offline.push({ deviceId: e.deviceId, at: Date.now(), lastSeen: e.lastSeen }));

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'snapshot') {
    // No gc() here: snapshots bound the CPU window, and a forced full GC would be charged to the KEEPALIVEs.
    process.send?.({
      cmd: 'snapshot',
      cpu: process.cpuUsage(),
      keepalives: server.stats.keepalives,
      datagrams: server.stats.datagrams,
      bad: server.stats.badDatagrams,
      online: server.registry.size,
      at: Date.now(),
    });
  } else if (m.cmd === 'memory') {
    process.send?.({ cmd: 'memory', heap: heap(), rss: process.memoryUsage().rss });
  } else if (m.cmd === 'offline') {
    process.send?.({ cmd: 'offline', offline });
  } else if (m.cmd === 'exit') {
    void server.close().then(() => process.exit(0));
  }
});

const { port } = await server.listen();
process.send?.({ cmd: 'ready', port, keepAliveSeconds, offlineAfterMissed, heap: heap() });
