/**
 * The far end of the benchmarks, in a child process (so host and device each get a core, as on two machines):
 * an SdkDevice, and a plain TCP sink that writes whatever it receives to a file (the baseline pipe).
 */
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { SdkDevice } from '../src/device/device.js';

const dir = process.argv[2]!;
const device = await SdkDevice.start({
  address: '127.0.0.1',
  port: 0,
  dir,
  search: false,
  handlers: { Size: ({ body }) => `<n v="${body.length}"/>`, Echo: ({ body }) => body },
});

const inThread = await SdkDevice.start({ address: '127.0.0.1', port: 0, dir, search: false, hashOffThread: false });

let sinkSeq = 0;
const sink = createServer({ allowHalfOpen: true }, (socket) => {
  const path = join(dir, `pipe-${sinkSeq++}.bin`);
  const out = createWriteStream(path);
  let bytes = 0;
  socket.on('data', (c: Buffer) => {
    bytes += c.byteLength;
  });
  socket.pipe(out);
  out.on('finish', () => {
    socket.end(`${bytes}\n`);
  });
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));

process.on('message', async (m: string) => {
  if (m === 'close') {
    await device.close();
    await inThread.close();
    sink.close();
    process.disconnect();
  }
});
process.send!({
  sdkPort: device.port,
  inThreadPort: inThread.port,
  sinkPort: (sink.address() as { port: number }).port,
});
