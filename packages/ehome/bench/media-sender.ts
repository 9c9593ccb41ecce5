// Child process of bench/media.ts: connects to the given ports on 127.0.0.1, says 'ready' (so the child's own
// start-up is outside the timed window), and on 'go' writes the same prepared stream to each connection as fast as
// TCP allows, then closes them and reports its own CPU time. argv: <file with the stream bytes> <port>...
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

const [file, ...ports] = process.argv.slice(2);
const bytes = readFileSync(file!);
const CHUNK = 64 * 1024;

const sockets = await Promise.all(
  ports.map(
    (p) =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: Number(p) }, () => resolve(s));
        s.on('error', reject);
      }),
  ),
);

function pumpAll(s: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    let o = 0;
    const pump = (): void => {
      while (o < bytes.length) {
        const end = Math.min(bytes.length, o + CHUNK);
        const ok = s.write(bytes.subarray(o, end));
        o = end;
        if (!ok) {
          s.once('drain', pump);
          return;
        }
      }
      s.end(resolve);
    };
    pump();
  });
}

process.once('message', async () => {
  const cpu0 = process.cpuUsage();
  await Promise.all(sockets.map(pumpAll));
  const c = process.cpuUsage(cpu0);
  process.send!({ cpu: (c.user + c.system) / 1e6 }, () => process.exit(0));
});
process.send!('ready');
