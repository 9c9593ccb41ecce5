import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { benchCodec } from './codec.js';
import { aravisReadRegister, ensureFakeCamera, oursReadRegister, rawDgramReadRegister } from './roundtrip.js';

function available(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}
const hasCamera = available('sh', ['-c', 'command -v arv-fake-gv-camera-0.8']);
const hasPythonAravis = available('/usr/bin/python3', [
  '-c',
  "import gi; gi.require_version('Aravis', '0.8'); from gi.repository import Aravis",
]);

// Bounded: codec ~0.5 s per message type (~10 s), round trip 7 rounds x 2 clients x 2000 reads (~10 s).
console.log(`# @cam/gvcp benchmarks - node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}\n`);
console.log('## Codec (ns per operation)\n');
console.log('| message | bytes | encode | encodeInto | decode |');
console.log('|---|---:|---:|---:|---:|');
for (const r of benchCodec()) {
  console.log(
    `| ${r.message} | ${r.bytes} | ${r.encodeNs.toFixed(0)} | ${r.encodeIntoNs.toFixed(0)} | ${r.decodeNs.toFixed(0)} |`,
  );
}

if (!hasCamera || !hasPythonAravis) {
  console.log('\nround trip skipped: arv-fake-gv-camera-0.8 or python Aravis missing');
} else {
  const stop = await ensureFakeCamera();
  try {
    const n = 2000;
    const ours: number[] = [];
    const aravis: number[] = [];
    const raw: number[] = [];
    // One discarded round each: V8 compiles the hot path on background threads during the first thousands of reads.
    await oursReadRegister(5000);
    await rawDgramReadRegister(5000);
    // Interleaved rounds so both clients see the same machine load.
    for (let round = 0; round < 7; round++) {
      ours.push(await oursReadRegister(n));
      aravis.push(await aravisReadRegister(n));
      raw.push(await rawDgramReadRegister(n));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
    console.log('\n## Register read round trip on loopback vs arv-fake-gv-camera-0.8 (us per read)\n');
    const min = (xs: number[]) => Math.min(...xs);
    console.log(`| client | rounds (${n} reads each) | best | median |`);
    console.log('|---|---|---:|---:|');
    console.log(
      `| @cam/gvcp GvcpClient.readRegister | ${fmt(ours)} | ${min(ours).toFixed(1)} | ${median(ours).toFixed(1)} |`,
    );
    console.log(
      `| Aravis 0.8 (python gi) Device.read_register | ${fmt(aravis)} | ${min(aravis).toFixed(1)} | ${median(aravis).toFixed(1)} |`,
    );
    console.log(
      `| bare node:dgram ping-pong, no client logic (Node floor) | ${fmt(raw)} | ${min(raw).toFixed(1)} | ${median(raw).toFixed(1)} |`,
    );
    console.log(
      `\nratio ours / Aravis: best ${(min(ours) / min(aravis)).toFixed(2)}, median ${(median(ours) / median(aravis)).toFixed(2)}`,
    );
  } finally {
    await stop();
  }
}
