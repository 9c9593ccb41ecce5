/**
 * Paced GVSP sender for the benchmarks, run in its own process (so its CPU is not the receiver's). Commands come
 * over IPC: { port, packetSize, payloadSize, pps, seconds }; it answers { sent, seconds, frames } when done.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { gvsp } from './lib.js';

const { GvspPayloadType, PixelFormat, packetiseBlock } = gvsp;

interface Job {
  port: number;
  packetSize: number;
  payloadSize: number;
  pps: number;
  seconds: number;
}

const socket = dgram.createSocket('udp4');
socket.bind(0, '127.0.0.1', () => {
  socket.setSendBufferSize(16 * 1024 * 1024);
  process.send?.({ ready: true });
});

function blocks(job: Job) {
  const width = 1024;
  const height = Math.ceil(job.payloadSize / width);
  const data = new Uint8Array(width * height).map((_, i) => i & 0xff);
  const out = [];
  // one template block; each frame is a copy with its block id patched in (standard header bytes 2..3)
  for (let k = 0; k < 1; k++) {
    out.push(
      packetiseBlock(
        {
          leader: {
            fieldInfo: 0,
            genericFlags: 0,
            chunksAppended: false,
            payloadType: GvspPayloadType.IMAGE,
            timestamp: 0n,
            pixelFormat: PixelFormat.Mono8!,
            sizeX: width,
            sizeY: height,
            offsetX: 0,
            offsetY: 0,
            paddingX: 0,
            paddingY: 0,
          },
          trailer: { reserved: 0, payloadType: GvspPayloadType.IMAGE, chunksAppended: false, sizeY: height },
          data,
        },
        1n,
        job.packetSize,
        false,
      ),
    );
  }
  return out;
}

async function run(job: Job): Promise<void> {
  const bs = blocks(job);
  const start = performance.now();
  const end = start + job.seconds * 1000;
  let sent = 0;
  let frames = 0;
  let blockId = 1;
  let b = bs[0]!;
  let id = b.packetCount;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const due = Math.floor(((now - start) / 1000) * job.pps);
    while (sent < due) {
      if (id >= b.packetCount) {
        // a fresh copy per frame: queued sends may still reference the previous frame's bytes
        const t = bs[frames % bs.length]!;
        b = { ...t, bytes: t.bytes.slice() };
        for (let i = 0; i < b.packetCount; i++) {
          const o = b.offsets[i]!;
          b.bytes[o + 2] = blockId >> 8;
          b.bytes[o + 3] = blockId & 0xff;
        }
        blockId = blockId >= 0xffff ? 1 : blockId + 1;
        frames++;
        id = 0;
      }
      socket.send(b.bytes.subarray(b.offsets[id]!, b.offsets[id + 1]!), job.port, '127.0.0.1');
      id++;
      sent++;
    }
    await new Promise<void>((r) => setImmediate(r));
  }
  // finish the last frame so it can complete
  while (id < b.packetCount) {
    socket.send(b.bytes.subarray(b.offsets[id]!, b.offsets[id + 1]!), job.port, '127.0.0.1');
    id++;
    sent++;
  }
  await new Promise((r) => setTimeout(r, 50));
  process.send?.({ sent, frames, seconds: (performance.now() - start) / 1000 });
}

// never outlive the benchmark (a crashed parent closes the IPC channel)
process.on('disconnect', () => process.exit(0));

process.on('message', (m: Job | { exit: true }) => {
  if ('exit' in m) {
    socket.close();
    process.exit(0);
  }
  void run(m);
});
