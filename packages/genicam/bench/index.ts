/**
 * Benchmarks of @cam/genicam (bounded: each case stops after its iteration count or 20 s).
 *   pnpm --filter @cam/genicam bench
 */
import { readFileSync } from 'node:fs';
import { MemoryPort, NodeMap } from '../src/index.js';

const fixture = (name: string): string => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');
const BUDGET_MS = 20_000;

/** Registers of the schema 1.0 camera in test/fixtures/camera-schema10.xml (our own file), big-endian. */
function cameraPort(): MemoryPort {
  const port = new MemoryPort(0x10000);
  port.setUint32(0x1000, 1280);
  port.setUint32(0x1004, 1024);
  port.setUint32(0x1010, 1280);
  port.setUint32(0x1014, 1024);
  port.setUint32(0x1020, 1);
  port.setUint32(0x1024, 1);
  port.setUint32(0x1030, 0x01080001);
  return port;
}

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return `n=${samples.length} mean=${mean.toFixed(3)} ms median=${q(0.5).toFixed(3)} ms p95=${q(0.95).toFixed(3)} ms`;
}

async function benchLoad(label: string, xml: string, iterations: number): Promise<void> {
  const samples: number[] = [];
  const started = performance.now();
  for (let k = 0; k < iterations && performance.now() - started < BUDGET_MS; k++) {
    const t = performance.now();
    await NodeMap.load(xml, cameraPort());
    samples.push(performance.now() - t);
  }
  const warm = samples.slice(Math.min(5, samples.length - 1));
  console.log(
    `load ${label} (${(xml.length / 1024).toFixed(1)} KiB): first=${samples[0]?.toFixed(2)} ms, then ${stats(warm)}`,
  );
}

async function benchGets(cache: boolean, count: number): Promise<void> {
  const port = cameraPort();
  const map = await NodeMap.load(fixture('camera-schema10.xml'), port, { cache });
  await map.get('PayloadSize');
  const reads = port.reads;
  const t = performance.now();
  let last: unknown;
  for (let k = 0; k < count && performance.now() - t < BUDGET_MS; k++) last = await map.get('PayloadSize');
  const ms = performance.now() - t;
  console.log(
    `${count} x get('PayloadSize') (IntSwissKnife of Width, Height, PixelFormat), cache ${cache ? 'on' : 'off'}: ` +
      `${ms.toFixed(1)} ms total, ${((ms * 1000) / count).toFixed(2)} us/get, ${Math.round((count / ms) * 1000)} gets/s, ` +
      `port reads ${port.reads - reads}, value ${String(last)}`,
  );
}

console.log(`node ${process.version}, ${process.platform} ${process.arch}`);
await benchLoad('schema 1.0 camera XML (camera-schema10.xml)', fixture('camera-schema10.xml'), 300);
await benchLoad('schema 1.1 camera XML (camera-schema11-indexed.xml)', fixture('camera-schema11-indexed.xml'), 300);
await benchGets(true, 10_000);
await benchGets(false, 10_000);
