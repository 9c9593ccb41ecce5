import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameTooLargeError, MalformedError, TruncatedError } from '@cam/net-utils';
import { describe, expect, it } from 'vitest';
import { itInterop } from '../../../test-support/interop.js';
import {
  decodeRtp,
  escapeRbsp,
  H264TestPatternGenerator,
  isKeyframe,
  MediaStreamDecoder,
  MediaStreamEncoder,
  muxPs,
  nalUnits,
  PsDemuxer,
  RtpSequenceTracker,
  unescapeRbsp,
} from '../src/index.js';

describe('RTP', () => {
  it('rejects a version other than 2 and a bad padding length', () => {
    const p = new Uint8Array(12);
    expect(() => decodeRtp(p)).toThrow(MalformedError);
    p[0] = 0xa0; // V2 with padding, padding length byte 0
    expect(() => decodeRtp(p)).toThrow(/padding/);
    expect(() => decodeRtp(p.subarray(0, 11))).toThrow(TruncatedError);
  });

  it('tracks sequence gaps across the 16-bit wrap', () => {
    const t = new RtpSequenceTracker();
    expect(t.track(65_534)).toBe(0);
    expect(t.track(65_535)).toBe(0);
    expect(t.track(2)).toBe(2); // 0 and 1 missing
    expect(t.track(1)).toBe(0); // late
    expect(t.lost).toBe(2);
    expect(t.late).toBe(1);
  });
});

describe('MPEG-PS', () => {
  it('reads the stream type from the PSM and marks H.264 IDR access units as keyframes', () => {
    const gen = new H264TestPatternGenerator({ width: 32, height: 32, gop: 2 });
    const demuxer = new PsDemuxer();
    const out = [];
    for (let i = 0; i < 4; i++) {
      const au = gen.next();
      out.push(...demuxer.push(muxPs(au)));
    }
    out.push(...demuxer.end());
    expect(out.map((a) => a.codec)).toEqual(['h264', 'h264', 'h264', 'h264']);
    expect(out.map((a) => a.keyframe)).toEqual([true, false, true, false]);
    expect(out.map((a) => a.pts)).toEqual([0, 3600, 7200, 10_800]);
  });

  it('splits an access unit larger than 64 KiB over several PES packets', () => {
    const data = new Uint8Array(200_000).fill(7);
    data.set([0, 0, 0, 1, 0x65]);
    const ps = muxPs({ data, pts: 1, keyframe: true });
    const d = new PsDemuxer();
    const got = [...d.push(ps), ...d.end()];
    expect(got).toHaveLength(1);
    expect(Buffer.from(got[0]!.data).equals(Buffer.from(data))).toBe(true);
  });

  it('refuses an access unit above the limit without growing past it', () => {
    const d = new PsDemuxer({ maxAccessUnitSize: 1000 });
    expect(() => d.push(muxPs({ data: new Uint8Array(5000), pts: 0, keyframe: false }))).toThrow(FrameTooLargeError);
  });

  it('reports garbage instead of a start code', () => {
    expect(() => new PsDemuxer().push(Uint8Array.of(1, 2, 3, 4, 5))).toThrow(MalformedError);
  });

  it('a stream that ends inside a PS unit is truncated', () => {
    const ps = muxPs({ data: new Uint8Array(100), pts: 0, keyframe: true });
    const d = new PsDemuxer();
    d.push(ps.subarray(0, ps.length - 10));
    expect(() => d.end()).toThrow(TruncatedError);
  });
});

describe('media stream framing', () => {
  it('detects the private header and keeps it', () => {
    const enc = new MediaStreamEncoder({ framing: 'private-header' });
    const wire = enc.encode({ data: Uint8Array.of(0, 0, 0, 1, 0x65, 1, 2), pts: 0, keyframe: true });
    const dec = new MediaStreamDecoder();
    // Feed one byte at a time: detection must work from any split.
    const events = [];
    for (let i = 0; i < wire.length; i++) events.push(...dec.push(wire.subarray(i, i + 1)));
    events.push(...dec.end());
    expect(dec.framing).toBe('private-header');
    expect(dec.privateHeader?.subarray(0, 4)).toEqual(Uint8Array.of(1, 0, 1, 0));
    expect(events.filter((e) => e.type === 'access-unit')).toHaveLength(1);
  });

  it('removes the stray 0x0D byte and counts it', () => {
    const enc = new MediaStreamEncoder({ framing: 'rtp-interleaved', strayByte: true, maxPayload: 100 });
    const au = { data: new Uint8Array(1000).fill(9), pts: 0, keyframe: true };
    au.data.set([0, 0, 0, 1, 0x65]);
    const dec = new MediaStreamDecoder();
    const events = [...dec.push(enc.encode(au)), ...dec.end()];
    const aus = events.flatMap((e) => (e.type === 'access-unit' ? [e.accessUnit] : []));
    expect(Buffer.from(aus[0]!.data).equals(Buffer.from(au.data))).toBe(true);
    expect(dec.stats.strayBytesRemoved).toBe(dec.stats.rtpPackets);
  });

  it('reports a sequence gap when an RTP packet is missing', () => {
    const enc = new MediaStreamEncoder({ framing: 'rtp-interleaved', maxPayload: 64, initialSequence: 10 });
    const wire = enc.encode({ data: new Uint8Array(64 * 4), pts: 0, keyframe: false });
    // Drop the second interleaved frame (each frame is 4 + 12 + 64 bytes).
    const frame = 4 + 12 + 64;
    const cut = Buffer.concat([wire.subarray(0, frame), wire.subarray(2 * frame)]);
    const dec = new MediaStreamDecoder();
    const events = dec.push(cut);
    expect(events.find((e) => e.type === 'gap')).toEqual({ type: 'gap', lost: 1, sequenceNumber: 12 });
  });

  it('rejects a stream that is neither framing, and a bad interleaved magic mid-stream', () => {
    expect(() => new MediaStreamDecoder().push(Uint8Array.of(0x47, 0x40, 0, 0x10))).toThrow(MalformedError);
    const enc = new MediaStreamEncoder({ framing: 'rtp-interleaved' });
    const good = enc.encode({ data: new Uint8Array(10), pts: 0, keyframe: false });
    const bad = Buffer.concat([good, Buffer.from([0x25, 0, 0, 4, 1, 2, 3, 4])]);
    expect(() => new MediaStreamDecoder().push(bad)).toThrow(/expected '\$'/);
  });

  it('emits raw PS chunks on request', () => {
    const enc = new MediaStreamEncoder({ framing: 'rtp-interleaved' });
    const dec = new MediaStreamDecoder({ emitPs: true });
    const events = dec.push(enc.encode({ data: new Uint8Array(10), pts: 0, keyframe: true }));
    expect(events.some((e) => e.type === 'ps')).toBe(true);
  });
});

describe('H.264 test pattern generator', () => {
  it('escapes and unescapes emulation prevention', () => {
    const raw = Uint8Array.of(0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 5);
    const esc = escapeRbsp(raw);
    expect([...esc]).toEqual([0, 0, 3, 0, 0, 3, 0, 1, 0, 0, 3, 2, 0, 0, 3, 3, 5]);
    expect([...unescapeRbsp(esc)]).toEqual([...raw]);
  });

  it('produces SPS, PPS and IDR at each GOP start and no start-code emulation inside NAL units', () => {
    const gen = new H264TestPatternGenerator({ width: 48, height: 32, gop: 3 });
    const first = gen.next();
    expect([...nalUnits(first.data)].map((n) => n[0]! & 0x1f)).toEqual([7, 8, 5]);
    expect(isKeyframe(first.data, 'h264')).toBe(true);
    const second = gen.next();
    expect([...nalUnits(second.data)].map((n) => n[0]! & 0x1f)).toEqual([1]);
    expect(second.pts).toBe(3600);
  });

  itInterop('writes an elementary stream ffprobe decodes with the right size and frame count', ['ffprobe'], () => {
    const dir = mkdtempSync(join(tmpdir(), 'cam-h264-'));
    try {
      const gen = new H264TestPatternGenerator({ width: 64, height: 48, fps: 25, gop: 10 });
      const file = join(dir, 'clip.h264');
      writeFileSync(file, Buffer.concat(Array.from({ length: 25 }, () => gen.next().data)));
      const out = execFileSync(
        'ffprobe',
        [
          '-v',
          'error',
          '-count_frames',
          '-select_streams',
          'v:0',
          '-show_entries',
          'stream=codec_name,width,height,nb_read_frames',
          '-of',
          'json',
          file,
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
      const stream = (JSON.parse(out) as { streams: Record<string, unknown>[] }).streams[0]!;
      expect(stream).toMatchObject({ codec_name: 'h264', width: 64, height: 48, nb_read_frames: '25' });
      // And no decoder complaints.
      const errors = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], {
        encoding: 'utf8',
        timeout: 20_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(errors).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
