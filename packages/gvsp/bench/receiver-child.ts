/**
 * One receiver of the throughput benchmark in its own process, so that every receiver (the bare dgram floor and
 * ours, main thread or worker) runs under identical conditions: a fresh process, the same loader, nothing else on
 * its event loop. IPC: { open: kind, packetSize, payloadSize } -> { port, granted }; { snap: true } -> counters
 * (packets, bytes, complete frames, CPU microseconds of the whole process, all threads); { exit: true }.
 */
import dgram from 'node:dgram';
import { gvsp } from './lib.js';

const { GvspReceiver } = gvsp;

/** floor: bare dgram; main / worker: the JS engine; native / ring: @cam/gvsp-native with recvmmsg / the packet ring. */
export type ReceiverKind = 'floor' | 'main' | 'worker' | 'native' | 'ring';

export interface Snapshot {
  packets: number;
  bytes: number;
  frames: number;
  cpuUs: number;
}

interface Open {
  open: ReceiverKind;
  packetSize: number;
  payloadSize: number;
  receiveBufferSize: number;
}

let stats: () => Omit<Snapshot, 'cpuUs'> = () => ({ packets: 0, bytes: 0, frames: 0 });
let debug: () => unknown = () => undefined;

/** The floor: a bare dgram socket whose handler copies each payload packet's data to its offset in a frame buffer. */
async function openFloor(o: Open): Promise<{ port: number; granted: number }> {
  const s = dgram.createSocket({ type: 'udp4' });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  s.setRecvBufferSize(o.receiveBufferSize);
  const buf = new Uint8Array(o.payloadSize);
  const ds = o.packetSize - 28 - 8;
  let packets = 0;
  let bytes = 0;
  let frames = 0;
  s.on('message', (m: Buffer) => {
    packets++;
    bytes += m.length;
    const fmt = m[4]!;
    if (fmt === 3) {
      const id = (m[5]! << 16) | (m[6]! << 8) | m[7]!;
      const off = (id - 1) * ds;
      // same copy as ours: the whole datagram lands so its data is at `off` (no view object per packet)
      if (off >= 8 && off + m.length - 8 <= buf.length) buf.set(m, off - 8);
    } else if (fmt === 2) frames++;
  });
  stats = () => ({ packets, bytes, frames });
  return { port: s.address().port, granted: s.getRecvBufferSize() };
}

async function openOurs(o: Open, kind: ReceiverKind): Promise<{ port: number; granted: number; engine: string }> {
  const native = kind === 'native' || kind === 'ring';
  const rx = await GvspReceiver.open({
    address: '127.0.0.1',
    payloadSize: o.payloadSize,
    packetSize: o.packetSize,
    receiveBufferSize: o.receiveBufferSize,
    resend: false,
    worker: kind === 'worker',
    engine: native ? 'native' : 'js',
    ...(native ? { capture: kind === 'ring' ? ('packet-ring' as const) : ('recvmmsg' as const) } : {}),
    slots: 8,
  });
  let frames = 0;
  void (async () => {
    for await (const f of rx.frames()) {
      if (f.status === 'complete') frames++;
      f.release();
    }
  })();
  debug = () => rx.stats();
  stats = () => {
    const s = rx.stats();
    return { packets: s.receivedPackets + s.duplicatedPackets, bytes: s.transferredBytes, frames };
  };
  return { port: rx.port, granted: rx.receiveBuffer.granted, engine: `${rx.engine.name}/${rx.engine.capture}` };
}

process.on('disconnect', () => process.exit(0));
process.on('message', (m: Open | { snap: true } | { exit: true }) => {
  if ('exit' in m) process.exit(0);
  if ('snap' in m) {
    const c = process.cpuUsage();
    process.send?.({ ...stats(), cpuUs: c.user + c.system, ...(process.env.BENCH_DEBUG ? { extra: debug() } : {}) });
    return;
  }
  const opened = m.open === 'floor' ? openFloor(m) : openOurs(m, m.open);
  void opened.then((r) => process.send?.(r));
});
process.send?.({ ready: true });
