import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { GvcpDevice } from '@cam/gvcp';
import { attachGvspStreaming } from '@cam/gvsp';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerGigeStream } from '../src/commands/gige-stream.js';
import { encodePng } from '../src/image/encode.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
  vi.restoreAllMocks();
});

/** Runs `cam gige ...` in this process (gige.ts wires registerGigeStream in; here we wire it ourselves). */
async function cam(args: string[]): Promise<string> {
  const program = new Command('cam').exitOverride();
  registerGigeStream(program.command('gige'));
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(['node', 'cam', 'gige', ...args]);
  } finally {
    vi.restoreAllMocks();
  }
  return out;
}

async function camera(pixelFormat: 'Mono8' | 'RGB8Packed') {
  const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 64, height: 32, pixelFormat });
  cleanup.push(() => dev.close());
  const s = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1', forceFps: 50 });
  cleanup.push(() => s.close());
  return dev.address().port;
}

describe('cam gige grab / stream against our simulated camera', () => {
  it('grabs Mono8 frames as PNG files and prints statistics as JSON', async () => {
    const port = await camera('Mono8');
    const dir = mkdtempSync(join(tmpdir(), 'cam-grab-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const out = await cam(['grab', '127.0.0.1', '--port', String(port), '--frames', '3', '--out', dir, '--json']);
    const doc = JSON.parse(out) as {
      ok: boolean;
      frames: { file: string; status: string; width: number }[];
      stats: { completedFrames: number };
    };
    expect(doc.ok).toBe(true);
    expect(doc.frames.map((f) => f.status)).toEqual(['complete', 'complete', 'complete']);
    // file names carry the block id
    const names = readdirSync(dir).sort();
    expect(names).toHaveLength(3);
    for (const f of doc.frames)
      expect(names).toContain(`frame-${String((f as unknown as { blockId: string }).blockId).padStart(6, '0')}.png`);
    const png = readFileSync(join(dir, names[0]!));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(64);
    expect(png.readUInt32BE(20)).toBe(32);
  }, 30_000);

  it('grabs RGB8 frames as PNG', async () => {
    const port = await camera('RGB8Packed'); // PFNC RGB8, 0x02180014
    const dir = mkdtempSync(join(tmpdir(), 'cam-grab-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const out = await cam(['grab', '127.0.0.1', '--port', String(port), '--out', dir]);
    expect(out).toContain('64x32 RGB8');
    // one frame written; the stats may count more, the camera keeps sending at 50 fps until the stream closes
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^frame-\d{6}\.png$/)]);
    expect(out).toMatch(/frames: [1-9]\d* complete/);
    const png = readFileSync(join(dir, readdirSync(dir)[0]!));
    expect(png[25]).toBe(2); // colour type RGB
  }, 30_000);

  it('streams for a second and reports rate and losses', async () => {
    const port = await camera('Mono8');
    const out = await cam(['stream', '127.0.0.1', '--port', String(port), '--seconds', '1', '--json']);
    const doc = JSON.parse(out) as { ok: boolean; stats: { completedFrames: number; failures: number } };
    expect(doc.ok).toBe(true);
    expect(doc.stats.completedFrames).toBeGreaterThan(10);
    expect(doc.stats.failures).toBe(0);
  }, 30_000);

  it('writes PNG that inflates to the filtered rows', () => {
    const px = Uint8Array.from({ length: 6 }, (_, i) => i * 10);
    const png = encodePng({ kind: 'gray8', width: 3, height: 2, pixels: px });
    const idatLen = png.readUInt32BE(33);
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect([...raw]).toEqual([0, 0, 10, 20, 0, 30, 40, 50]);
  });
});
