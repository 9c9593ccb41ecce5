/**
 * Receiver throughput on loopback at one packet size: a paced sender process (sender-child.ts) and three
 * receiver processes (receiver-child.ts: the bare dgram floor, GvspReceiver on the main thread, GvspReceiver with
 * `worker: true`), all started the same way. The rate steps up a ladder; at each rate the receivers take turns
 * (the order rotates per round) so they see the same machine at nearly the same moment; a receiver leaves the
 * ladder after two lossy steps in a row. Each receiver's loss-free maximum is the highest achieved rate of a step
 * with every packet and every frame in, taken per round; the summary gives the median and the spread over rounds.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { machineBusySeconds, machineSoftirqSeconds, median } from './lib.js';
import type { ReceiverKind, Snapshot } from './receiver-child.js';
import type { SendResult } from './sender-child.js';

// BENCH_SOURCE=1 runs the receiver from source: its worker starts through the repository's dev starter
const sourceWorker = new URL('../../../test-support/source-worker.ts', import.meta.url).href;

const senderFile = fileURLToPath(new URL('./sender-child.ts', import.meta.url));
const receiverFile = fileURLToPath(new URL('./receiver-child.ts', import.meta.url));

export const PAYLOAD = 1024 * 1000; // ~1 MB frames (1024 x 1000 Mono8)
const RCVBUF = 32 * 1024 * 1024;
/** Other processes using this much CPU (cores) during a step make it "contended" (2-core machine). */
const CONTENDED = 0.5;

export interface Step {
  kind: ReceiverKind;
  round: number;
  pps: number;
  achievedPps: number;
  senderCpu: number;
  /** Sender's kernel time, share of a core (on loopback the receive path up to the socket queue runs in it). */
  senderSystem: number;
  /** Softirq time of the whole machine during the step, in cores (/proc/stat). */
  softirq: number;
  skipped: number;
  lostPackets: number;
  lostFrames: number;
  lossFree: boolean;
  cpu: number;
  /** CPU used during the step by everything but this receiver and the sender (other processes), in cores. */
  others: number;
  mbPerSecond: number;
  cpuSecondsPerGB: number;
  usPerPacket: number;
}

const NAMES: Record<ReceiverKind, string> = {
  floor: 'dgram floor',
  main: 'GvspReceiver',
  worker: 'GvspReceiver (worker)',
  native: 'native (recvmmsg)',
  ring: 'native (packet ring)',
};

/** Receivers in the ladder: BENCH_RECEIVERS (comma list of floor, main, worker, native, ring), default all. */
function receiverKinds(): ReceiverKind[] {
  const all: ReceiverKind[] = ['floor', 'main', 'worker', 'native', 'ring'];
  const asked = (process.env.BENCH_RECEIVERS ?? '')
    .split(',')
    .filter((k): k is ReceiverKind => all.includes(k as ReceiverKind));
  const kinds = asked.length > 0 ? asked : all;
  // the packet ring needs CAP_NET_RAW
  return kinds.filter((k) => k !== 'ring' || process.getuid?.() === 0);
}

/** Children still alive, killed when this process exits (one exit listener for all of them). */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill();
});

function child(file: string, ready?: object[]): Promise<ChildProcess> {
  const c = fork(file, [], {
    execArgv: ['--conditions=@cam/source', '--import', 'tsx', '--import', sourceWorker],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(c);
  c.once('exit', () => children.delete(c));
  // a child that dies before it is ready (an import failed) must end the bench, not leave it waiting for ever
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`${file} exited (${code}) before it was ready`));
    c.once('exit', onExit);
    c.once('message', (m) => {
      c.off('exit', onExit);
      ready?.push(m as object);
      resolve(c);
    });
  });
}

function ask<T>(c: ChildProcess, msg: object): Promise<T> {
  return new Promise<T>((resolve) => {
    c.once('message', (m) => resolve(m as T));
    c.send(msg);
  });
}

export async function throughput(
  packetSize: number,
  ladder: number[],
  options: { rounds: number; seconds: number; referencePps: number },
): Promise<Step[]> {
  const out = (s: string): boolean => process.stdout.write(s);
  const senderReady: { engine?: string }[] = [];
  const sender = await child(senderFile, senderReady);
  const kinds = receiverKinds();
  const rx = new Map<ReceiverKind, { proc: ChildProcess; port: number; granted: number }>();
  for (const kind of kinds) {
    const proc = await child(receiverFile);
    const r = await ask<{ port: number; granted: number }>(proc, {
      open: kind,
      packetSize,
      payloadSize: PAYLOAD + 16 * 1024,
      receiveBufferSize: RCVBUF,
    });
    rx.set(kind, { proc, ...r });
  }
  out(
    `\n## ${packetSize} B packets: ${options.rounds} rounds, ${options.seconds}s steps, sender pacing ` +
      `${process.env.BENCH_PACING === 'spin' ? 'spin (per packet)' : '1 ms bursts'}, sender engine ` +
      `${senderReady[0]?.engine ?? '?'}${senderReady[0]?.engine === 'native' ? ' (sendmmsg)' : ' (socket.send)'}; SO_RCVBUF ${RCVBUF} asked, ` +
      `${[...rx.values()].map((r) => r.granted).join('/')} granted (${kinds.join('/')})\n`,
  );
  const steps: Step[] = [];
  // every part stays well under 2 minutes: a round that would end past the budget is skipped and said so
  const budgetMs = Number(process.env.BENCH_BUDGET_S ?? 80) * 1000;
  const started = Date.now();
  let rounds = options.rounds;
  for (let round = 1; round <= options.rounds; round++) {
    const elapsed = Date.now() - started;
    if (round > 1 && elapsed + elapsed / (round - 1) > budgetMs) {
      rounds = round - 1;
      out(`(time budget of ${budgetMs / 1000} s reached: ${rounds} of ${options.rounds} rounds)\n`);
      break;
    }
    const order = kinds.map((_, i) => kinds[(i + round - 1) % kinds.length]!);
    const lossyRun = new Map<ReceiverKind, number>(kinds.map((k) => [k, 0]));
    for (const pps of ladder) {
      for (const kind of order) {
        if (lossyRun.get(kind)! >= 2) continue;
        const r = rx.get(kind)!;
        await new Promise((res) => setTimeout(res, 100));
        const a = await ask<Snapshot>(r.proc, { snap: true });
        const busy0 = machineBusySeconds();
        const soft0 = machineSoftirqSeconds();
        const sent = await ask<SendResult>(sender, {
          port: r.port,
          packetSize,
          payloadSize: PAYLOAD,
          pps,
          seconds: options.seconds,
        });
        const busy = machineBusySeconds() - busy0;
        const soft = machineSoftirqSeconds() - soft0;
        await new Promise((res) => setTimeout(res, 150)); // drain
        const b = await ask<Snapshot>(r.proc, { snap: true });
        const packets = b.packets - a.packets;
        const bytes = b.bytes - a.bytes;
        const frames = b.frames - a.frames;
        const cpuS = (b.cpuUs - a.cpuUs) / 1e6;
        const lostPackets = Math.max(0, sent.sent - packets);
        const lostFrames = Math.max(0, sent.frames - frames);
        const step: Step = {
          kind,
          round,
          pps,
          achievedPps: Math.round(sent.sent / sent.seconds),
          senderCpu: sent.cpu,
          senderSystem: sent.cpuSystem,
          softirq: soft / sent.seconds,
          skipped: sent.skipped,
          lostPackets,
          lostFrames,
          lossFree: lostPackets === 0 && lostFrames === 0,
          // the receiver's CPU over the sending time (it idles while the drain waits)
          cpu: cpuS / sent.seconds,
          others: Math.max(0, busy / sent.seconds - cpuS / sent.seconds - sent.cpu),
          mbPerSecond: bytes / 1e6 / sent.seconds,
          cpuSecondsPerGB: bytes > 0 ? cpuS / (bytes / 1e9) : 0,
          usPerPacket: packets > 0 ? (cpuS / packets) * 1e6 : 0,
        };
        steps.push(step);
        // a lossy step while other processes took the CPU does not end the receiver's climb
        if (step.lossFree) lossyRun.set(kind, 0);
        else if (step.others < CONTENDED) lossyRun.set(kind, lossyRun.get(kind)! + 1);
        const limited = step.achievedPps < pps * 0.97 ? ' SENDER-LIMITED' : '';
        const contended = step.others >= CONTENDED ? ' CONTENDED' : '';
        out(
          `r${round} ${String(pps).padStart(6)} pps (sent ${step.achievedPps}, sender cpu ${(sent.cpu * 100).toFixed(0)}% [sys ${(sent.cpuSystem * 100).toFixed(0)}%], softirq ${(step.softirq * 100).toFixed(0)}%${limited}) ` +
            `${NAMES[kind].padEnd(22)} ${step.lossFree ? 'loss-free' : `LOST ${lostPackets} pkts/${lostFrames} frames`}  ` +
            `cpu ${(step.cpu * 100).toFixed(0)}%  others ${step.others.toFixed(2)} cores${contended}  ${step.mbPerSecond.toFixed(0)} MB/s  ${step.cpuSecondsPerGB.toFixed(2)} cpu-s/GB  ${step.usPerPacket.toFixed(1)} us/pkt\n`,
        );
      }
    }
  }
  sender.send({ exit: true });
  for (const r of rx.values()) r.proc.send({ exit: true });

  const contendedSteps = steps.filter((s) => s.others >= CONTENDED).length;
  out(
    `\n### ${packetSize} B summary (median over ${rounds} rounds [min-max]; ratio ours / floor; ` +
      `${contendedSteps}/${steps.length} steps contended: other processes used >= ${CONTENDED} cores)\n`,
  );
  const top = ladder[ladder.length - 1]!;
  const bestOf = (kind: ReceiverKind, round: number): number => {
    const ok = steps.filter((s) => s.kind === kind && s.round === round && s.lossFree);
    return ok.reduce((m, s) => Math.max(m, s.achievedPps), 0);
  };
  // the lowest rate at which the receiver lost packets while nothing else took the CPU (Infinity: never)
  const firstCleanLoss = (kind: ReceiverKind): number =>
    steps
      .filter((s) => s.kind === kind && !s.lossFree && s.others < CONTENDED)
      .reduce((m, s) => Math.min(m, s.achievedPps), Number.POSITIVE_INFINITY);
  const ref = (kind: ReceiverKind) => steps.filter((s) => s.kind === kind && s.pps === options.referencePps);
  const floorBest = median(Array.from({ length: rounds }, (_, i) => bestOf('floor', i + 1)));
  const floorGB = median(ref('floor').map((s) => s.cpuSecondsPerGB));
  for (const kind of kinds) {
    const bests = Array.from({ length: rounds }, (_, i) => bestOf(kind, i + 1));
    const m = median(bests);
    const r = ref(kind);
    const gb = median(r.map((s) => s.cpuSecondsPerGB));
    const cpu = median(r.map((s) => s.cpu));
    const us = median(r.map((s) => s.usPerPacket));
    const refFree = r.filter((s) => s.lossFree).length;
    const topNote = bests.some((b) => b >= top * 0.97) ? ` (top of the ladder reached in some round)` : '';
    out(
      `${NAMES[kind].padEnd(22)} loss-free max ${Math.round(m)} pps = ${((m * (packetSize - 36)) / 1e6).toFixed(0)} MB/s ` +
        `[${Math.min(...bests)}-${Math.max(...bests)}]${topNote}` +
        (kind !== 'floor' && floorBest > 0 ? ` x${(m / floorBest).toFixed(2)} of floor` : '') +
        `; at ${options.referencePps} pps: cpu ${(cpu * 100).toFixed(0)}%, ${gb.toFixed(2)} cpu-s/GB, ${us.toFixed(1)} us/pkt, ` +
        `loss-free in ${refFree}/${r.length} rounds; ` +
        `lowest uncontended lossy step: ${Number.isFinite(firstCleanLoss(kind)) ? `${firstCleanLoss(kind)} pps` : 'none'}` +
        (kind !== 'floor' && floorGB > 0 ? `, CPU/GB x${(gb / floorGB).toFixed(2)} of floor` : '') +
        '\n',
    );
  }
  return steps;
}
