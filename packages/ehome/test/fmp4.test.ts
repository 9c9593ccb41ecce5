import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MalformedError, TruncatedError, WireError } from '@cam/net-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { itInterop } from '../../../test-support/interop.js';
import {
  annexBToAvcc,
  avcCodecString,
  encodeAvcC,
  encodeFmp4Fragment,
  encodeFmp4Init,
  Fmp4Muxer,
  nalUnits,
  parseH264Sps,
  SAMPLE_FLAGS_NON_SYNC,
  SAMPLE_FLAGS_SYNC,
} from '../src/codec/media/index.js';
import { H264TestPatternGenerator, loadClip } from '../src/index.js';

interface Box {
  type: string;
  start: number;
  size: number;
  body: Uint8Array;
}

/** Top-level boxes of `data` (the test's own reader, independent of the writer). */
function boxes(data: Uint8Array, base = 0): Box[] {
  const out: Box[] = [];
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let o = 0;
  while (o < data.length) {
    const size = v.getUint32(o);
    expect(size).toBeGreaterThanOrEqual(8);
    expect(o + size).toBeLessThanOrEqual(data.length);
    const type = String.fromCharCode(...data.subarray(o + 4, o + 8));
    out.push({ type, start: base + o, size, body: data.subarray(o + 8, o + size) });
    o += size;
  }
  return out;
}

function child(parent: Box, path: string, skip = 0): Box {
  let cur = parent;
  for (const type of path.split('/')) {
    const found = boxes(cur.body.subarray(skip)).find((b) => b.type === type);
    if (!found) throw new Error(`no ${type} in ${cur.type}`);
    cur = found;
    skip = 0;
  }
  return cur;
}

interface Trun {
  dataOffset: number;
  samples: { duration: number; size: number; flags: number }[];
}

function readFragment(segment: Uint8Array): { seq: number; tfdt: number; trun: Trun; moof: Box; mdat: Box } {
  const [moof, mdat] = boxes(segment);
  expect(moof!.type).toBe('moof');
  expect(mdat!.type).toBe('mdat');
  const mfhd = child(moof!, 'mfhd');
  const seq = new DataView(mfhd.body.buffer, mfhd.body.byteOffset).getUint32(4);
  const traf = child(moof!, 'traf');
  const tfhd = child(traf, 'tfhd');
  const tfhdView = new DataView(tfhd.body.buffer, tfhd.body.byteOffset);
  expect(tfhdView.getUint32(0) & 0xffffff).toBe(0x020000);
  const tfdt = child(traf, 'tfdt');
  const tfdtView = new DataView(tfdt.body.buffer, tfdt.body.byteOffset);
  expect(tfdt.body[0]).toBe(1);
  const trunBox = child(traf, 'trun');
  const tv = new DataView(trunBox.body.buffer, trunBox.body.byteOffset, trunBox.body.byteLength);
  const flags = tv.getUint32(0) & 0xffffff;
  expect(flags & 0x701).toBe(0x701);
  const count = tv.getUint32(4);
  const samples: Trun['samples'] = [];
  let o = 12;
  for (let i = 0; i < count; i++) {
    samples.push({ duration: tv.getUint32(o), size: tv.getUint32(o + 4), flags: tv.getUint32(o + 8) });
    o += flags & 0x800 ? 16 : 12;
  }
  expect(o).toBe(trunBox.body.length);
  return {
    seq,
    tfdt: Number(tfdtView.getBigUint64(4)),
    trun: { dataOffset: tv.getInt32(8), samples },
    moof: moof!,
    mdat: mdat!,
  };
}

function stream(width: number, height: number, frames: number, gop: number): { data: Uint8Array; pts: number }[] {
  const gen = new H264TestPatternGenerator({ width, height, fps: 25, gop });
  return Array.from({ length: frames }, () => {
    const au = gen.next();
    return { data: au.data, pts: au.pts };
  });
}

function muxAll(units: { data: Uint8Array; pts?: number }[], muxer: Fmp4Muxer): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const u of units) out.push(...muxer.push(u));
  out.push(...muxer.flush());
  return out;
}

describe('H.264 SPS reader', () => {
  it('reads the size and profile the generator wrote, for any even size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 640 }), fc.integer({ min: 8, max: 360 }), (w2, h2) => {
        const [sps] = [...nalUnits(new H264TestPatternGenerator({ width: w2 * 2, height: h2 * 2 }).next().data)];
        const info = parseH264Sps(sps!);
        expect(info.width).toBe(w2 * 2);
        expect(info.height).toBe(h2 * 2);
        expect(info.chromaFormatIdc).toBe(1);
      }),
      { numRuns: 60 },
    );
  });

  it('gives a typed error, never anything else, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const nal = Uint8Array.of(0x67, ...bytes);
        try {
          const info = parseH264Sps(nal);
          expect(info.width).toBeGreaterThan(0);
          expect(info.width).toBeLessThanOrEqual(8192);
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 2000 },
    );
    expect(() => parseH264Sps(Uint8Array.of(0x68, 1, 2, 3))).toThrow(MalformedError);
    expect(() => parseH264Sps(Uint8Array.of(0x67, 66))).toThrow(TruncatedError);
  });
});

describe('fMP4 codec', () => {
  it('writes an init segment with ftyp, moov/mvex/trex and an avc1 entry carrying the avcC', () => {
    const [sps, pps] = [...nalUnits(stream(320, 180, 1, 25)[0]!.data)];
    const init = encodeFmp4Init({ width: 320, height: 180, sps: [sps!], pps: [pps!] });
    const top = boxes(init);
    expect(top.map((b) => b.type)).toEqual(['ftyp', 'moov']);
    const moov = top[1]!;
    expect(boxes(moov.body).map((b) => b.type)).toEqual(['mvhd', 'trak', 'mvex']);
    child(moov, 'mvex/trex');
    const stsd = child(moov, 'trak/mdia/minf/stbl/stsd');
    const avc1 = boxes(stsd.body.subarray(8))[0]!;
    expect(avc1.type).toBe('avc1');
    const av = new DataView(avc1.body.buffer, avc1.body.byteOffset);
    expect([av.getUint16(24), av.getUint16(26)]).toEqual([320, 180]);
    const avcC = boxes(avc1.body.subarray(78))[0]!;
    expect(avcC.type).toBe('avcC');
    expect([...avcC.body]).toEqual([...encodeAvcC([sps!], [pps!])]);
    expect(avcC.body[1]).toBe(sps![1]); // profile
    expect(avcC.body[5]! & 0x1f).toBe(1); // one SPS
  });

  it('names the codec for MSE from the SPS (avc1.PPCCLL)', () => {
    const muxer = new Fmp4Muxer();
    expect(muxer.codecString).toBeUndefined();
    const [unit] = stream(32, 32, 1, 25);
    muxer.push(unit!);
    const [sps] = [...nalUnits(unit!.data)];
    const expected = `avc1.${[sps![1]!, sps![2]!, sps![3]!].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('')}`;
    expect(avcCodecString(sps!)).toBe(expected);
    expect(muxer.codecString).toBe(expected);
    // The shipped clips: Main profile (77 = 0x4D).
    const clipSps = [...nalUnits(loadClip('live').frames[0]!.data)][0]!;
    expect(avcCodecString(clipSps)).toMatch(/^avc1\.4D[0-9A-F]{4}$/);
  });

  it('refuses an avcC without parameter sets or with a NAL of the wrong type', () => {
    const [sps, pps] = [...nalUnits(stream(32, 32, 1, 25)[0]!.data)];
    expect(() => encodeAvcC([], [pps!])).toThrow(WireError);
    expect(() => encodeAvcC([pps!], [pps!])).toThrow(MalformedError);
    expect(() => encodeAvcC([sps!], [sps!])).toThrow(MalformedError);
  });

  it('converts Annex B to 4-byte lengths, leaving out SPS, PPS and delimiters', () => {
    const au = Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 7, 8, 9);
    expect([...annexBToAvcc(au)]).toEqual([0, 0, 0, 4, 0x65, 7, 8, 9]);
  });

  it('a media segment: trun sizes add up to the mdat, data_offset points at its payload, flags mark sync', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            size: fc.integer({ min: 0, max: 300 }),
            duration: fc.integer({ min: 0, max: 90000 }),
            keyframe: fc.boolean(),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (specs, base) => {
          const samples = specs.map((s, i) => ({
            data: new Uint8Array(s.size).fill(i & 0xff),
            duration: s.duration,
            keyframe: s.keyframe,
          }));
          const seg = encodeFmp4Fragment(1, 7, base, samples);
          const f = readFragment(seg);
          expect(f.seq).toBe(7);
          expect(f.tfdt).toBe(base);
          expect(f.trun.dataOffset).toBe(f.moof.size + 8);
          expect(f.trun.samples.map((s) => s.size)).toEqual(specs.map((s) => s.size));
          expect(f.trun.samples.map((s) => s.duration)).toEqual(specs.map((s) => s.duration));
          expect(f.trun.samples.map((s) => s.flags)).toEqual(
            specs.map((s) => (s.keyframe ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC)),
          );
          expect(f.mdat.body.length).toBe(specs.reduce((a, s) => a + s.size, 0));
          let o = f.trun.dataOffset;
          for (let i = 0; i < samples.length; i++) {
            expect([...seg.subarray(o, o + specs[i]!.size)]).toEqual([...samples[i]!.data]);
            o += specs[i]!.size;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Fmp4Muxer', () => {
  it('per GOP: an init segment, then one segment per GOP starting with a sync sample, decode times adding up', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 60 }), (gop, frames) => {
        const muxer = new Fmp4Muxer();
        const out = muxAll(stream(32, 32, frames, gop), muxer);
        expect(boxes(out[0]!).map((b) => b.type)).toEqual(['ftyp', 'moov']);
        const segments = out.slice(1).map(readFragment);
        expect(segments.length).toBe(Math.ceil(frames / gop));
        let time = 0;
        let seq = 1;
        for (const s of segments) {
          expect(s.seq).toBe(seq++);
          expect(s.tfdt).toBe(time);
          expect(s.trun.samples[0]!.flags).toBe(SAMPLE_FLAGS_SYNC);
          for (const x of s.trun.samples.slice(1)) expect(x.flags).toBe(SAMPLE_FLAGS_NON_SYNC);
          for (const x of s.trun.samples) expect(x.duration).toBe(3600);
          time += s.trun.samples.length * 3600;
        }
        expect(time).toBe(frames * 3600);
        expect(muxer.stats).toMatchObject({ frames, segments: segments.length, initSegments: 1 });
      }),
      { numRuns: 60 },
    );
  });

  it('per frame: one sample per segment; durations from the time stamps, across the 33-bit wrap', () => {
    const units = stream(32, 32, 10, 5).map((u, i) => ({
      data: u.data,
      pts: (2 ** 33 - 3 * 3000 + i * 3000) % 2 ** 33,
    }));
    const out = muxAll(units, new Fmp4Muxer({ fragment: 'frame' }));
    const segments = out.slice(1).map(readFragment);
    expect(segments.length).toBe(10);
    expect(segments.map((s) => s.trun.samples.length)).toEqual(Array(10).fill(1));
    expect(segments.map((s) => s.trun.samples[0]!.duration)).toEqual(Array(10).fill(3000));
    expect(segments.map((s) => s.tfdt)).toEqual(Array.from({ length: 10 }, (_, i) => i * 3000));
  });

  it('skips frames before the first IDR with parameter sets, and starts again with a new init on a new SPS', () => {
    const a = stream(32, 32, 6, 3);
    const b = stream(64, 48, 3, 3);
    const muxer = new Fmp4Muxer();
    const out = muxAll([...a.slice(1), ...b], muxer);
    expect(muxer.stats.skippedBeforeKeyframe).toBe(2);
    expect(muxer.stats.initSegments).toBe(2);
    const kinds = out.map((s) => boxes(s)[0]!.type);
    expect(kinds).toEqual(['ftyp', 'moof', 'ftyp', 'moof']);
  });

  it('cuts an endless GOP into bounded segments', () => {
    const muxer = new Fmp4Muxer({ maxFragmentFrames: 4 });
    const out = muxAll(stream(32, 32, 10, 1000), muxer);
    expect(out.slice(1).map((s) => readFragment(s).trun.samples.length)).toEqual([4, 4, 2]);
  });

  it('any NAL bytes in: segments out or a typed error, never anything else', () => {
    const nal = fc.tuple(fc.constantFrom(0x67, 0x68, 0x65, 0x41, 0x06, 0x09), fc.uint8Array({ maxLength: 40 }));
    fc.assert(
      fc.property(fc.array(fc.array(nal, { minLength: 1, maxLength: 4 }), { maxLength: 20 }), (units) => {
        const muxer = new Fmp4Muxer({ fragment: 'frame' });
        for (const au of units) {
          const data = Uint8Array.from(au.flatMap(([h, body]) => [0, 0, 0, 1, h, ...body.map((b) => b || 1)]));
          try {
            for (const seg of muxer.push({ data })) expect(seg.length).toBeGreaterThanOrEqual(8);
          } catch (e) {
            expect(e).toBeInstanceOf(WireError);
          }
        }
        for (const seg of muxer.flush()) expect(seg.length).toBeGreaterThanOrEqual(8);
      }),
      { numRuns: 500 },
    );
  });

  itInterop('ffprobe reads the muxed stream: h264, its size, every frame, no decoder errors', ['ffprobe'], () => {
    const dir = mkdtempSync(join(tmpdir(), 'cam-fmp4-'));
    try {
      for (const fragment of ['gop', 'frame'] as const) {
        const file = join(dir, `clip-${fragment}.mp4`);
        writeFileSync(file, Buffer.concat(muxAll(stream(96, 64, 30, 10), new Fmp4Muxer({ fragment }))));
        const out = execFileSync(
          'ffprobe',
          [
            ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
            ...['-show_entries', 'stream=codec_name,width,height,nb_read_frames,r_frame_rate', '-of', 'json', file],
          ],
          { encoding: 'utf8', timeout: 20_000 },
        );
        const s = (JSON.parse(out) as { streams: Record<string, unknown>[] }).streams[0]!;
        expect(s).toMatchObject({
          codec_name: 'h264',
          width: 96,
          height: 64,
          nb_read_frames: '30',
          r_frame_rate: '25/1',
        });
        const errors = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], {
          encoding: 'utf8',
          timeout: 20_000,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        expect(errors).toBe('');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
