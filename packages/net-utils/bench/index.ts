/**
 * net-utils benchmarks: ByteReader field reads against Buffer's own readers, and LengthFramer throughput.
 * Run: pnpm --filter @cam/net-utils bench   (each case: 0.2 s warm-up, best of 5 rounds of 0.2 s;
 * the whole run takes about 15 s)
 */
import { arch, cpus, platform } from 'node:os';
import { ByteReader, LengthFramer } from '../src/index.js';

const ROUNDS = 5;
const ROUND_MS = 200;

/**
 * Runs `pass` repeatedly in ROUNDS rounds of ROUND_MS (after a short warm-up) and returns the best round's passes
 * per second: the best round is the one least disturbed by other load on a shared machine.
 */
function measure(pass: () => number): { perSecond: number; sink: number } {
  let sink = 0;
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) sink += pass();
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let passes = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ROUND_MS) {
      sink += pass();
      passes++;
      now = performance.now();
    }
    best = Math.max(best, (passes * 1000) / (now - start));
  }
  return { perSecond: best, sink };
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(1);
}

// --- ByteReader u32 reads ---------------------------------------------------------------------------------
const WORDS = 16 * 1024;
// A pooled-style Buffer (non-zero byteOffset), as sockets deliver them.
const backing = Buffer.alloc(WORDS * 4 + 8);
const buf = backing.subarray(8);
for (let i = 0; i < buf.length; i++) buf[i] = (i * 7) & 0xff;

const readerResult = measure(() => {
  const r = new ByteReader(buf);
  let s = 0;
  for (let i = 0; i < WORDS; i++) s = (s + r.u32()) | 0;
  return s;
});
const bufferResult = measure(() => {
  let s = 0;
  for (let i = 0; i < WORDS; i++) s = (s + buf.readUInt32BE(i * 4)) | 0;
  return s;
});
const viewResult = measure(() => {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let s = 0;
  for (let i = 0; i < WORDS; i++) s = (s + v.getUint32(i * 4, false)) | 0;
  return s;
});

// --- LengthFramer throughput ------------------------------------------------------------------------------
const CHUNK = 64 * 1024;
const HEADER = 8;

/** A stream of `count` frames with `body` bytes each (8-byte header, u32 BE body length at offset 4). */
function stream(body: number, totalBytes: number): Uint8Array {
  const frameSize = HEADER + body;
  const count = Math.max(1, Math.floor(totalBytes / frameSize));
  const out = new Uint8Array(count * frameSize);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    view.setUint32(i * frameSize, 0xcafe0001);
    view.setUint32(i * frameSize + 4, body);
  }
  return out;
}

function chunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.byteLength; at += CHUNK) out.push(bytes.subarray(at, at + CHUNK));
  return out;
}

const framing = {
  headerSize: HEADER,
  lengthFieldOffset: 4,
  lengthFieldSize: 4,
  lengthIncludesHeader: false,
  maxFrameSize: 1024 * 1024,
} as const;

/** What the framer replaces: keep one pending Buffer and Buffer.concat every chunk onto it. */
function naiveFrames(parts: Uint8Array[]): number {
  let pending = Buffer.alloc(0);
  let frames = 0;
  for (const c of parts) {
    pending = Buffer.concat([pending, c]);
    for (;;) {
      if (pending.length < HEADER) break;
      const total = HEADER + pending.readUInt32BE(4);
      if (pending.length < total) break;
      frames++;
      pending = pending.subarray(total);
    }
  }
  return frames;
}

const framerRows: string[] = [];
// 1 KB and 64 KB frames straddle chunk boundaries (the usual case); the 64 KiB-aligned case is the best case
// where every frame is a view of its chunk.
const sizes: Array<[string, number]> = [
  ['1 KB frames', 1000 - HEADER],
  ['64 KB frames', 64_000 - HEADER],
  ['64 KiB frames, chunk-aligned', 64 * 1024 - HEADER],
];
for (const [label, body] of sizes) {
  const data = stream(body, 16 * 1024 * 1024);
  const parts = chunks(data);
  const mb = data.byteLength / 1e6;
  const framer = measure(() => {
    const f = new LengthFramer(framing);
    const out: Uint8Array[] = [];
    for (const c of parts) {
      f.pushTo(c, out);
      out.length = 0;
    }
    f.end();
    return f.position;
  });
  const naive = measure(() => naiveFrames(parts));
  framerRows.push(
    `| ${label} | ${(framer.perSecond * mb).toFixed(0)} MB/s | ${(naive.perSecond * mb).toFixed(0)} MB/s |`,
  );
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`Node ${process.version}, ${platform()} ${arch()}, ${cpus().length} x ${cpu}\n`);
console.log('| u32 reads (64 KiB buffer, big-endian) | reads/s |');
console.log('|---|---|');
console.log(`| ByteReader.u32() | ${fmt(readerResult.perSecond * WORDS)} |`);
console.log(`| Buffer.readUInt32BE() | ${fmt(bufferResult.perSecond * WORDS)} |`);
console.log(`| DataView.getUint32() (floor) | ${fmt(viewResult.perSecond * WORDS)} |`);
console.log('\n| LengthFramer, 64 KiB chunks, 16 MiB stream | LengthFramer | Buffer.concat per chunk |');
console.log('|---|---|---|');
for (const row of framerRows) console.log(row);
// Keep the results observable so the loops are not optimised away.
if ((readerResult.sink ^ bufferResult.sink ^ viewResult.sink) === 0.5) console.log('');
