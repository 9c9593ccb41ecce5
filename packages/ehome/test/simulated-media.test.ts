import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortPool } from '@cam/net-utils';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { itInterop } from '../../../test-support/interop.js';
import { nalUnits, parseH264Sps } from '../src/codec/media/index.js';
import { clipPsBytes, loadClip, scenePicture } from '../src/device/media/clips.js';
import { simulatedRecordingIndex } from '../src/device/recordings.js';
import {
  type AccessUnit,
  ClipSource,
  EhomeDevice,
  EhomeDeviceMedia,
  type EhomeStreamSession,
  MediaStreamDecoder,
  MediaStreamEncoder,
  muxPs,
  PsDemuxer,
} from '../src/index.js';
import { Cleanup, startServer } from './helpers.js';

const c = new Cleanup();
afterEach(() => c.run());

let base = 47_000 + (process.pid % 100) * 20;

async function rig() {
  const mediaPorts = new PortPool({ min: base, max: base + 9, host: '127.0.0.1' });
  base += 10;
  const server = await startServer(c, { mediaPorts, mediaAddress: '127.0.0.1' });
  const media = new EhomeDeviceMedia();
  c.add(() => media.close(), undefined);
  const device = new EhomeDevice({
    server: { host: '127.0.0.1', port: server.addresses().port },
    deviceId: 'real1',
    localAddress: '127.0.0.1',
    backoff: { initialMs: 50, maxMs: 400 },
    mediaHandler: media.handler,
  });
  c.add(() => device.close(), undefined);
  await device.start();
  return { server, device, media, handle: server.device('real1') };
}

async function take(stream: EhomeStreamSession, n: number): Promise<AccessUnit[]> {
  const out: AccessUnit[] = [];
  const it = stream[Symbol.asyncIterator]();
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Width and height from a baseline JPEG's SOF0 segment. */
function jpegSize(jpeg: Uint8Array): { width: number; height: number } {
  expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
  const v = new DataView(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
  let o = 2;
  while (o + 4 < jpeg.length) {
    expect(jpeg[o]).toBe(0xff);
    const marker = jpeg[o + 1]!;
    if (marker === 0xc0) return { width: v.getUint16(o + 7), height: v.getUint16(o + 5) };
    o += 2 + v.getUint16(o + 2);
  }
  throw new Error('no SOF0');
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('the shipped clips', () => {
  it('are compressed H.264 Main, 640x360, 60 s at 25 fps, an IDR carrying SPS and PPS every second', () => {
    for (const name of ['live', 'playback'] as const) {
      const clip = loadClip(name);
      expect(clip.frames.length).toBe(1500);
      expect({ width: clip.width, height: clip.height }).toEqual({ width: 640, height: 360 });
      const sps = [...nalUnits(clip.frames[0]!.data)][0]!;
      expect(parseH264Sps(sps).profileIdc).toBe(77);
      expect(clip.frames.flatMap((f, i) => (f.keyframe ? [i] : []))).toEqual(
        Array.from({ length: 60 }, (_, i) => i * 25),
      );
      const types = [...nalUnits(clip.frames[25]!.data)].map((n) => n[0]! & 0x1f);
      expect(types).toEqual([7, 8, 5]);
      // Compressed: far below the 640x360x1.5 bytes a raw picture takes.
      const bytes = clip.frames.reduce((n, f) => n + f.data.length, 0);
      expect(bytes / clip.frames.length).toBeLessThan(640 * 360 * 0.05);
    }
    expect(hex(loadClip('live').frames[0]!.data)).not.toBe(hex(loadClip('playback').frames[0]!.data));
  });

  it('a looped stretch weighs what its frames weigh in MPEG-PS, however long and wherever it starts', () => {
    const clip = loadClip('playback');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 3200 }), (second, count) => {
        const first = second * 25;
        let bytes = 0;
        for (let i = 0; i < count; i++) {
          const f = clip.frames[(first + i) % clip.frames.length]!;
          bytes += muxPs({ data: f.data, pts: i * 3600, keyframe: f.keyframe }).length;
        }
        expect(clipPsBytes(clip, first, count)).toBe(bytes);
      }),
      { numRuns: 15 },
    );
  });

  it('MPEG-PS over RTP carries every clip frame byte-exact at the real bitrate', () => {
    const clip = loadClip('live');
    const encoder = new MediaStreamEncoder({ framing: 'rtp-interleaved' });
    const decoder = new MediaStreamDecoder({ framing: 'rtp-interleaved' });
    const got: string[] = [];
    for (let i = 0; i < 100; i++) {
      const f = clip.frames[i]!;
      for (const e of decoder.push(encoder.encode({ data: f.data, pts: i * 3600, keyframe: f.keyframe }))) {
        if (e.type === 'access-unit') got.push(hex(e.accessUnit.data));
      }
    }
    for (const e of decoder.end()) if (e.type === 'access-unit') got.push(hex(e.accessUnit.data));
    expect(got).toEqual(clip.frames.slice(0, 100).map((f) => hex(f.data)));
  });

  it('pictures are JPEGs of the preview scene, chosen by the second of the minute', () => {
    const a = scenePicture(new Date(Date.UTC(2026, 0, 1, 10, 0, 4)));
    const b = scenePicture(new Date(Date.UTC(2026, 0, 1, 10, 0, 5)));
    const later = scenePicture(new Date(Date.UTC(2026, 0, 1, 10, 0, 30)));
    expect(jpegSize(a)).toEqual({ width: 640, height: 360 });
    expect(hex(a)).toBe(hex(b));
    expect(hex(a)).not.toBe(hex(later));
    expect(a.length).toBeGreaterThan(4000);
  });

  it('the recordings of any day are the same whenever asked, one per hour, 10..60 s long', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), (d) => {
        const day = d.toISOString().slice(0, 10);
        const index = simulatedRecordingIndex(2, day);
        expect(index.length).toBe(48);
        expect(simulatedRecordingIndex(2, day)).toEqual(index);
        expect(simulatedRecordingIndex(2, day, undefined, 2)).toEqual(index.filter((r) => r.channel === 2));
        for (const r of index) {
          expect(r.start.slice(0, 10)).toBe(day);
          expect(r.durationMs).toBeGreaterThanOrEqual(10_000);
          expect(r.durationMs).toBeLessThanOrEqual(60_000);
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('ClipSource', () => {
  const clip = loadClip('playback');
  const drain = (src: ClipSource, max = 5000) => {
    const out: { pts: number; keyframe: boolean; data: Uint8Array }[] = [];
    for (let au = src.next(); au && out.length < max; au = src.next()) out.push(au);
    return out;
  };

  it('plays a stretch from an IDR, frame by frame, 3600 ticks apart, and stops at its length', () => {
    const frames = drain(new ClipSource(clip, 50, 60));
    expect(frames.length).toBe(60);
    expect(frames[0]!.keyframe).toBe(true);
    expect(frames.map((f) => f.pts)).toEqual(Array.from({ length: 60 }, (_, i) => i * 3600));
    expect(hex(frames[30]!.data)).toBe(hex(clip.frames[80]!.data));
  });

  it('loops past the end of the clip', () => {
    const frames = drain(new ClipSource(clip, 1475, 50));
    expect(hex(frames[25]!.data)).toBe(hex(clip.frames[0]!.data));
  });

  it('seeks to the IDR of that second, plays backwards as one IDR per second, and FORCEIFRAME jumps to the next', () => {
    const src = new ClipSource(clip, 0, 250);
    src.seek(4_500);
    expect(src.next()).toMatchObject({ keyframe: true, pts: 100 * 3600 });
    src.setReverse(true);
    const back = drain(src);
    expect(back.map((f) => f.pts / 3600)).toEqual([100, 75, 50, 25, 0]);
    expect(back.every((f) => f.keyframe)).toBe(true);
    const live = new ClipSource(clip, 0, undefined);
    drain(live, 3);
    live.requestKeyframe();
    expect(live.next()).toMatchObject({ keyframe: true, pts: 25 * 3600 });
  });
});

describe('a simulated device with the default media', () => {
  it('preview and playback are different scenes; a capture is a 640x360 JPEG', async () => {
    const { handle, media } = await rig();
    const live = await handle.preview({ channel: 1 });
    c.add(() => live.stop(), undefined);
    const [firstLive] = await take(live, 1);
    await live.stop();
    const [rec] = await handle.queryRecords({ channel: 1, start: '2031-05-05 00:00:00', stop: '2031-05-05 00:59:59' });
    const pb = await handle.playback({ channel: 1, start: rec!.start, end: rec!.stop });
    c.add(() => pb.stop(), undefined);
    const [firstPb] = await take(pb, 1);
    await pb.stop();
    expect(firstLive!.keyframe && firstPb!.keyframe).toBe(true);
    const clips = { live: loadClip('live'), playback: loadClip('playback') };
    expect(clips.live.frames.some((f) => hex(f.data) === hex(firstLive!.data))).toBe(true);
    expect(clips.playback.frames.some((f) => hex(f.data) === hex(firstPb!.data))).toBe(true);
    expect(media.received.map((r) => r.command)).toEqual(['INVITESTREAM', 'BYESTREAM', 'PLAYBACK', 'BYESTREAM']);

    const pic = await handle.capturePicture({ channel: 1 });
    expect(jpegSize(new Uint8Array(readFileSync(pic.media!.path)))).toEqual({ width: 640, height: 360 });
  });

  it('a download of any day weighs what the index said and lasts what it said', async () => {
    const { handle, server } = await rig();
    for (const day of ['2019-02-28', '2044-12-31']) {
      const files = await handle.queryRecords({ channel: 1, start: `${day} 05:00:00`, stop: `${day} 05:59:59` });
      expect(files.length).toBe(1);
      const file = files[0]!;
      const path = join(server.pictures!.directory, `dl-${day}.ps`);
      const r = await handle.download(file, path);
      expect(r.bytes).toBe(file.size);
      expect(r.fileSize).toBe(file.size);
      const demuxer = new PsDemuxer();
      const aus = [...demuxer.push(readFileSync(path)), ...demuxer.end()];
      const seconds =
        (Date.parse(`${file.stop.replace(' ', 'T')}Z`) - Date.parse(`${file.start.replace(' ', 'T')}Z`)) / 1000;
      expect(aus.length).toBe(seconds * 25);
      expect(aus[0]!.keyframe).toBe(true);
    }
  });

  itInterop('ffprobe reads a downloaded recording (MPEG-PS): h264 640x360, every frame', ['ffprobe'], async () => {
    const { handle } = await rig();
    const dir = mkdtempSync(join(tmpdir(), 'cam-sim-media-'));
    try {
      const [file] = await handle.queryRecords({
        channel: 1,
        start: '2026-06-01 12:00:00',
        stop: '2026-06-01 12:59:59',
      });
      const path = join(dir, 'rec.ps');
      await handle.download(file!, path);
      const seconds =
        (Date.parse(`${file!.stop.replace(' ', 'T')}Z`) - Date.parse(`${file!.start.replace(' ', 'T')}Z`)) / 1000;
      const out = execFileSync(
        'ffprobe',
        [
          ...['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-f', 'mpeg'],
          ...['-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', path],
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      const s = (JSON.parse(out) as { streams: Record<string, unknown>[] }).streams[0]!;
      expect(s).toMatchObject({ codec_name: 'h264', width: 640, height: 360, nb_read_frames: String(seconds * 25) });
      writeFileSync(join(dir, 'ok'), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
