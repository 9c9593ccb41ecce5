/**
 * Paced GVSP sender for the benchmarks, run in its own process (so its CPU is not the receiver's). Commands come
 * over IPC: { port, packetSize, payloadSize, pps, seconds }; it answers with what it sent when done.
 *
 * Pacing stands in for a camera on a link: it sleeps ~1 ms between bursts (a 10 GbE camera sends a 1 MB frame
 * back-to-back in under 1 ms; a GigE one paces packets at 1-8 us each) instead of spinning, so it leaves the
 * second core to the receiver; a burst is what fell due since the last one. When this process itself is held up
 * (scheduling on a shared 2-core VM) it does not catch up with one huge burst that no camera would send: the
 * backlog is capped at 4 ms of packets and the rest is skipped and reported (`skipped`, achieved rate below the
 * target = the sender was the limit).
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { gvsp, mono8Block } from './lib.js';

/**
 * BENCH_SENDER=native (default when @cam/gvsp-native loads with sendBatch): each burst goes out with sendmmsg
 * (@cam/gvsp-native's sendBatch, the GvspSender's native engine), a frame's due packets per call; `js`: one
 * socket.send per packet (the JS engine's way, which tops out near 110k pps at 9000 B on this machine).
 */
type SendBatch = NonNullable<import('@cam/gvsp-native').NativeBinding['sendBatch']>;
const nativeSend: SendBatch | undefined =
  process.env.BENCH_SENDER === 'js'
    ? undefined
    : await import('@cam/gvsp-native').then(
        (m) => m.binding.sendBatch,
        () => undefined,
      );
if (process.env.BENCH_SENDER === 'native' && nativeSend === undefined) {
  throw new Error('BENCH_SENDER=native: @cam/gvsp-native with sendBatch did not load');
}
export const senderEngine = nativeSend ? 'native' : 'js';
const LOOPBACK = 0x7f000001;

/** The descriptor of a bound dgram socket (Node's internal state, as GvspSender reads it). */
function fdOf(s: dgram.Socket): number {
  const key = Object.getOwnPropertySymbols(s).find((k) => k.description === 'state symbol');
  const fd = key ? (s as unknown as Record<symbol, { handle?: { fd?: number } }>)[key]?.handle?.fd : undefined;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no descriptor for the sender socket');
  return fd;
}

const { packetiseBlock } = gvsp;

interface Job {
  port: number;
  packetSize: number;
  payloadSize: number;
  pps: number;
  seconds: number;
}

export interface SendResult {
  sent: number;
  frames: number;
  seconds: number;
  skipped: number;
  maxBurst: number;
  /** CPU of this sender process over the job, share of one core. */
  cpu: number;
  /** Of which in the kernel (system time: on loopback the receive path's softirq mostly runs here). */
  cpuSystem: number;
  /** `native` (sendmmsg) or `js` (socket.send per packet). */
  engine: string;
}

/**
 * BENCH_PACING=spin: wake as often as the event loop allows (a packet or two per wake-up, like a camera with a
 * packet delay seen through a NIC without interrupt coalescing) at the price of a whole core spinning; the default
 * (1 ms bursts) leaves that core to the receiver. Both receivers of a comparison always get the same pacing.
 */
const SPIN = process.env.BENCH_PACING === 'spin';

const socket = dgram.createSocket('udp4');
let connectedPort = 0;
/** Block ids run on across jobs: a receiver kept open between steps would take a restarted count as late. */
let blockId = 0;
socket.bind(0, '127.0.0.1', () => {
  socket.setSendBufferSize(16 * 1024 * 1024);
  process.send?.({ ready: true, engine: senderEngine });
});

function template(job: Job) {
  const width = 1024;
  const height = Math.ceil(job.payloadSize / width);
  const data = new Uint8Array(width * height).map((_, i) => i & 0xff);
  return packetiseBlock(mono8Block(width, height, data), 1n, job.packetSize, false);
}

async function connect(port: number): Promise<void> {
  if (connectedPort === port) return;
  if (connectedPort !== 0) socket.disconnect();
  // connected: send() skips the per-datagram address lookup and goes straight to sendmsg
  await new Promise<void>((r) => socket.connect(port, '127.0.0.1', () => r()));
  connectedPort = port;
}

async function run(job: Job): Promise<SendResult> {
  await connect(job.port);
  const t = template(job);
  // two frame copies used in turn: a queued send may still reference the previous frame's bytes
  const copies = [t.bytes.slice(), t.bytes.slice()];
  const maxBacklog = Math.max(64, Math.round(job.pps * 0.004));
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + job.seconds * 1000;
  let sent = 0;
  let skipped = 0;
  let frames = 0;
  let maxBurst = 0;
  let bytes = copies[0]!;
  let id = t.packetCount;
  const fd = nativeSend ? fdOf(socket) : -1;
  const newFrame = (): void => {
    blockId = blockId >= 0xffff ? 1 : blockId + 1;
    bytes = copies[frames & 1]!;
    for (let i = 0; i < t.packetCount; i++) {
      const o = t.offsets[i]!;
      bytes[o + 2] = blockId >> 8;
      bytes[o + 3] = blockId & 0xff;
    }
    frames++;
    id = 0;
  };
  /** Sends packets until `due` have left, frame by frame (one sendBatch call per frame's share when native). */
  const sendUpTo = (due: number): void => {
    while (sent < due) {
      if (id >= t.packetCount) newFrame();
      const n = Math.min(due - sent, t.packetCount - id);
      if (nativeSend) nativeSend(fd, bytes, t.offsets, id, n, LOOPBACK, job.port);
      else for (let k = id; k < id + n; k++) socket.send(bytes.subarray(t.offsets[k]!, t.offsets[k + 1]!));
      id += n;
      sent += n;
    }
  };
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    let due = Math.floor(((now - start) / 1000) * job.pps) - skipped;
    if (due - sent > maxBacklog) {
      skipped += due - sent - maxBacklog;
      due = sent + maxBacklog;
    }
    if (due - sent > maxBurst) maxBurst = due - sent;
    sendUpTo(due);
    if (SPIN) await new Promise<void>((r) => setImmediate(r));
    else await new Promise<void>((r) => setTimeout(r, 1));
  }
  // finish the last frame so it can complete
  if (id < t.packetCount) sendUpTo(sent + (t.packetCount - id));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 20));
  return {
    sent,
    frames,
    seconds,
    skipped,
    maxBurst,
    cpu: (cpu.user + cpu.system) / 1e6 / seconds,
    cpuSystem: cpu.system / 1e6 / seconds,
    engine: senderEngine,
  };
}

// never outlive the benchmark (a crashed parent closes the IPC channel)
process.on('disconnect', () => process.exit(0));

process.on('message', (m: Job | { exit: true }) => {
  if ('exit' in m) {
    socket.close();
    process.exit(0);
  }
  void run(m).then((r) => process.send?.(r));
});
