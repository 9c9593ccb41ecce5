/**
 * The sending side of both benchmark pipes, in a child process of bench/index.ts (in reality the camera is another
 * machine: its sending cost must not eat the receiver's CPU time). The same process serves both pipes, so their
 * senders run under identical conditions:
 *
 * - SC_GVMP: a GvcpDevice on 127.0.0.1 (UDP port 0) with the real ScGvmpDevice plugged in (fps 0: frames back to
 *   back, header + payload in one writev, the payload never copied). The parent drives it over real GVCP.
 * - raw: on request, one plain socket connecting to the parent and writing the same payload buffer `frames` times
 *   with the same backpressure (`write` / `drain`).
 *
 * Messages from the parent: { cmd: 'size', bytes } sets the payload; { cmd: 'raw', port, frames } runs the raw
 * writer once; { cmd: 'exit' }. { cmd: 'cpu' } asks for its CPU time. Replies: { ready, gvcpPort }, { ok }, { done }, { cpu }.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { GvcpDevice } from '@cam/gvcp';
import { attachToGvcpDevice, ScGvmpDevice } from '../src/index.js';

const send = (m: unknown): void => {
  process.send?.(m);
};

let payload = new Uint8Array(0);
const gvcp = await GvcpDevice.start({ address: '127.0.0.1', port: 0, heartbeatTimeoutMs: 60_000 });
const device = new ScGvmpDevice({ fps: 0, source: () => ({ kind: 'RAW', payload }) });
attachToGvcpDevice(device, gvcp);

async function rawWriter(port: number, frames: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  for (let i = 0; i < frames; i++) {
    if (!socket.write(payload)) await once(socket, 'drain');
  }
  socket.end();
  await once(socket, 'close');
}

process.on('message', (m: { cmd: string; bytes?: number; port?: number; frames?: number }) => {
  if (m.cmd === 'size') {
    payload = new Uint8Array(m.bytes!).fill(0x5a);
    send({ ok: true });
  } else if (m.cmd === 'raw') {
    rawWriter(m.port!, m.frames!).then(
      () => send({ done: true }),
      (error: unknown) => send({ error: String(error) }),
    );
  } else if (m.cmd === 'cpu') {
    send({ cpu: process.cpuUsage() });
  } else if (m.cmd === 'exit') {
    void device.close();
    void gvcp.close().finally(() => process.exit(0));
  }
});
// The parent died or finished: never linger.
process.on('disconnect', () => process.exit(0));
send({ ready: true, gvcpPort: gvcp.address().port });
