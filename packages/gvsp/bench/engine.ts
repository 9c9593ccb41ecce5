/**
 * The reassembly engine alone (no sockets): nanoseconds of our own work per packet, which is what we add on top
 * of Node's dgram cost. Frames of ~1 MB at packet sizes 1500 and 9000, delivered and released as they complete.
 */
import { performance } from 'node:perf_hooks';
import { gvsp, mono8Block } from './lib.js';

const { GvspReassembler, packetiseBlock } = gvsp;

export function engineBench(
  packetSize: number,
  frames = 300,
): { nsPerPacket: number; cpuNsPerPacket: number; packets: number } {
  const width = 1024;
  const height = 1000;
  const data = new Uint8Array(width * height).map((_, i) => i & 0xff);
  const engine: InstanceType<typeof GvspReassembler> = new GvspReassembler(
    { payloadSize: width * height + 16384, packetSize, resend: true },
    {
      requestResend() {},
      frameReady() {
        for (let s = engine.take(); s >= 0; s = engine.take()) engine.release(s);
      },
    },
  );
  const blocks = [1n, 2n].map((id) => packetiseBlock(mono8Block(width, height, data), id, packetSize, false));
  // datagrams as Node hands them over: one Buffer each
  const packets = blocks.map((b) =>
    Array.from({ length: b.packetCount }, (_, i) => Buffer.from(b.bytes.subarray(b.offsets[i]!, b.offsets[i + 1]!))),
  );
  let n = 0;
  let blockId = 1;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let f = 0; f < frames; f++) {
    const ps = packets[f & 1]!;
    // patch the block id so every frame is new
    for (const p of ps) {
      p[2] = blockId >> 8;
      p[3] = blockId & 0xff;
    }
    blockId = blockId >= 0xffff ? 1 : blockId + 1;
    for (const p of ps) {
      engine.handlePacket(p, p.length);
      n++;
    }
    engine.tick(performance.now());
  }
  const ms = performance.now() - t0;
  // CPU time of this process (user + system): on a loaded machine, wall time also counts the time the scheduler
  // gave to other processes, CPU time mostly does not
  const cpu = process.cpuUsage(c0);
  if (engine.get('completedFrames') !== frames)
    throw new Error(`only ${engine.get('completedFrames')} of ${frames} frames completed`);
  return { nsPerPacket: (ms * 1e6) / n, cpuNsPerPacket: ((cpu.user + cpu.system) * 1e3) / n, packets: n };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // BENCH_FRAMES (300) frames per size; BENCH_GVSP_DIST (see lib.ts) measures another build
  const frames = Number(process.env.BENCH_FRAMES ?? 300);
  for (const size of [1500, 9000]) {
    engineBench(size, 50); // warm up
    const r = engineBench(size, frames);
    process.stdout.write(
      `engine alone, ${size} B packets: ${r.nsPerPacket.toFixed(0)} ns per packet wall, ${r.cpuNsPerPacket.toFixed(0)} ns CPU (payload copy included), ${r.packets} packets\n`,
    );
  }
}
