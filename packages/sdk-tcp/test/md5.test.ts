import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Md5Cache, md5Bytes, md5File } from '../src/transport/files.js';
import { type Rig, startRig } from './helpers.js';

let dir = '';
let rig: Rig | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cam-sdk-md5-'));
});
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('md5File', () => {
  it.each([0, 1, 4 << 20, (4 << 20) + 1, 9 * 1024 * 1024 + 7])('equals the in-memory MD5 for %i bytes', async (n) => {
    const data = randomBytes(n);
    const p = join(dir, 'f.bin');
    await writeFile(p, data);
    expect(await md5File(p)).toBe(md5Bytes(data));
  });

  it('hashes only the first `length` bytes when asked, and refuses a file shorter than that', async () => {
    const data = randomBytes(5 << 20);
    const p = join(dir, 'f.bin');
    await writeFile(p, data);
    expect(await md5File(p, { length: 1000 })).toBe(md5Bytes(data.subarray(0, 1000)));
    expect(await md5File(p, { length: (4 << 20) + 3 })).toBe(md5Bytes(data.subarray(0, (4 << 20) + 3)));
    await expect(md5File(p, { length: (5 << 20) + 1 })).rejects.toThrow(/shorter than/);
  });

  it('stops on an aborted signal', async () => {
    const p = join(dir, 'f.bin');
    await writeFile(p, randomBytes(1000));
    await expect(md5File(p, { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});

describe('Md5Cache', () => {
  it('answers an unchanged file from memory and hashes a rewritten one again', async () => {
    const cache = new Md5Cache();
    const p = join(dir, 'f.bin');
    const a = randomBytes(100_000);
    await writeFile(p, a);
    expect(await cache.md5(p)).toBe(md5Bytes(a));
    expect(await cache.md5(p)).toBe(md5Bytes(a));
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
    // Same size, same mtime forced back: ctime still moves, so the new content is hashed.
    const b = randomBytes(100_000);
    await writeFile(p, b);
    const t = new Date('2026-01-01T00:00:00Z');
    await utimes(p, t, t);
    expect(await cache.md5(p)).toBe(md5Bytes(b));
    expect(cache.stats).toEqual({ hits: 1, misses: 2 });
  });

  it('is bounded (least recently used first) and forgets on request', async () => {
    const cache = new Md5Cache({ maxEntries: 2 });
    const paths = [0, 1, 2].map((i) => join(dir, `f${i}.bin`));
    for (const [i, p] of paths.entries()) await writeFile(p, Buffer.from(`file ${i}`));
    await cache.md5(paths[0]!);
    await cache.md5(paths[1]!);
    await cache.md5(paths[0]!); // 0 is now the most recent
    await cache.md5(paths[2]!); // evicts 1
    expect(cache.size).toBe(2);
    const before = cache.stats.misses;
    await cache.md5(paths[0]!);
    expect(cache.stats.misses).toBe(before);
    await cache.md5(paths[1]!);
    expect(cache.stats.misses).toBe(before + 1);
    await cache.forget(paths[1]!);
    await cache.md5(paths[1]!);
    expect(cache.stats.misses).toBe(before + 2);
    await cache.forget(join(dir, 'missing.bin'));
    expect(() => new Md5Cache({ maxEntries: 0 })).toThrow(RangeError);
  });

  it('SdkClient.upload of the same file twice hashes it once; the file arrives intact both times', async () => {
    rig = await startRig();
    const cache = new Md5Cache();
    const c = await rig.connect({ md5Cache: cache });
    const data = randomBytes(300_000);
    const src = join(dir, 'src.bin');
    await writeFile(src, data);
    const first = await c.upload(src, { name: 'one.bin' });
    const second = await c.upload(src, { name: 'two.bin' });
    expect(first.md5).toBe(md5Bytes(data));
    expect(second.md5).toBe(md5Bytes(data));
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
    expect(Buffer.compare(await readFile(join(rig.dir, 'two.bin')), data)).toBe(0);
    // With the cache off, every upload hashes (and still arrives intact).
    const plain = await rig.connect({ md5Cache: false });
    expect((await plain.upload(src, { name: 'three.bin' })).md5).toBe(md5Bytes(data));
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
    expect(Buffer.compare(await readFile(join(rig.dir, 'three.bin')), data)).toBe(0);
  });
});
