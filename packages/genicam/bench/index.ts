/**
 * Benchmarks of @cam/genicam (bounded: each case stops after its iteration count or 20 s).
 *   pnpm --filter @cam/genicam bench
 */
import { readFileSync } from 'node:fs';
import { MemoryPort, NodeMap } from '../src/index.js';

const fixture = (name: string): string => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');
const BUDGET_MS = 20_000;

function fakeCameraPort(): MemoryPort {
  const port = new MemoryPort(0x10000);
  port.setUint32(0x100, 512);
  port.setUint32(0x104, 512);
  port.setUint32(0x118, 2048);
  port.setUint32(0x11c, 2048);
  port.setUint32(0x128, 17301505);
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
    await NodeMap.load(xml, fakeCameraPort());
    samples.push(performance.now() - t);
  }
  const warm = samples.slice(Math.min(5, samples.length - 1));
  console.log(
    `load ${label} (${(xml.length / 1024).toFixed(1)} KiB): first=${samples[0]?.toFixed(2)} ms, then ${stats(warm)}`,
  );
}

async function benchGets(cache: boolean, count: number): Promise<void> {
  const port = fakeCameraPort();
  const map = await NodeMap.load(fixture('aravis-fake-camera.xml'), port, { cache });
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
await benchLoad('Aravis fake camera XML', fixture('aravis-fake-camera.xml'), 300);
await benchLoad('Basler piA640-210gm XML', fixture('vendor-Basler_piA640_210gm.xml'), 20);
await benchGets(true, 10_000);
await benchGets(false, 10_000);
