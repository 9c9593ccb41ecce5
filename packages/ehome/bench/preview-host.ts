// Child process of bench/previews.ts, the process whose CPU time is measured. argv[2] is the role:
//   platform            an EhomeServer (register, alarm and picture servers, media port pool) and its HTTP API on
//                       127.0.0.1; says { ready, signallingPort, apiUrl }.
//   pipe <sinkPort>     a plain TCP relay: every connection it accepts is piped to a new connection to 127.0.0.1:
//                       <sinkPort>; says { ready, port }.
// On 'mark' it answers { cpu } (user + system seconds so far); on 'exit' it closes and exits.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortPool } from '@cam/net-utils';
import { EhomeHttpApi, EhomeServer } from '../src/index.js';

const send = (m: unknown): void => {
  process.send?.(m);
};
const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const closers: (() => Promise<void> | void)[] = [];

if (process.argv[2] === 'platform') {
  const dir = mkdtempSync(join(tmpdir(), 'ehome-previews-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const base = 30_000 + (process.pid % 200) * 50;
  const server = new EhomeServer({
    address: '127.0.0.1',
    port: 0,
    alarmPort: 0,
    picturePort: 0,
    dataDirectory: dir,
    mediaPorts: new PortPool({ min: base, max: base + 49, host: '127.0.0.1' }),
    mediaAddress: '127.0.0.1',
  });
  await server.listen();
  const api = new EhomeHttpApi(server, { port: 0 });
  await api.listen();
  closers.unshift(
    () => api.close(),
    () => server.close(),
  );
  send({ ready: true, signallingPort: server.addresses().port, apiUrl: api.url });
} else if (process.argv[2] === 'pipe') {
  const sinkPort = Number(process.argv[3]);
  const relay = createServer((inbound) => {
    const outbound = connect({ host: '127.0.0.1', port: sinkPort });
    inbound.pipe(outbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
  const address = relay.address();
  send({ ready: true, port: typeof address === 'object' && address ? address.port : 0 });
} else {
  throw new Error(`unknown role ${process.argv[2]}`);
}

process.on('message', async (m: 'mark' | 'exit') => {
  if (m === 'mark') send({ cpu: cpuSeconds() });
  else {
    for (const c of closers) await c();
    process.exit(0);
  }
});
// Bounded: a parent that dies leaves no orphan.
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(1), 15 * 60_000).unref();
