import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PortPool, PortPoolExhaustedError, TimeoutError } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { itInterop } from '../../../test-support/interop.js';
import {
  type AccessUnit,
  EhomeDevice,
  EhomeDeviceMedia,
  type EhomeDeviceMediaOptions,
  type EhomeServer,
  type EhomeStreamSession,
  H264TestPatternGenerator,
  PsDemuxer,
  type SimulatedRecording,
} from '../src/index.js';
import { Cleanup, startServer } from './helpers.js';

const c = new Cleanup();
afterEach(() => c.run());

let base = 43_000 + (process.pid % 100) * 30;
function pool(size = 4): PortPool {
  const p = new PortPool({ min: base, max: base + size - 1, host: '127.0.0.1' });
  base += size;
  return p;
}

async function rig(
  options: { poolSize?: number; media?: EhomeDeviceMediaOptions; recordings?: SimulatedRecording[] } = {},
) {
  const mediaPorts = pool(options.poolSize ?? 4);
  const server = await startServer(c, { mediaPorts, mediaAddress: '127.0.0.1' });
  const media = new EhomeDeviceMedia({ width: 32, height: 32, fps: 50, ...options.media });
  c.add(() => media.close(), undefined);
  const device = new EhomeDevice({
    server: { host: '127.0.0.1', port: server.addresses().port },
    deviceId: 'cam7',
    localAddress: '127.0.0.1',
    channels: 2,
    recordingDay: '2026-01-01',
    ...(options.recordings ? { recordings: options.recordings } : {}),
    backoff: { initialMs: 50, maxMs: 400 },
    mediaHandler: media.handler,
  });
  c.add(() => device.close(), undefined);
  await device.start();
  return { server, device, media, mediaPorts, handle: server.device('cam7') };
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

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('EHome media end to end on loopback', () => {
  it('preview: INVITESTREAM, the device pushes, access units arrive byte-exact; stop frees the port and the device stream', async () => {
    const { handle, media, mediaPorts } = await rig();
    const stream = await handle.preview({ channel: 1, stream: 'main' });
    c.add(() => stream.stop(), undefined);
    expect(mediaPorts.inUse).toBe(1);
    const aus = await take(stream, 12);
    const reference = new H264TestPatternGenerator({ width: 32, height: 32, fps: 50, gop: 50 });
    expect(aus.map((a) => hex(a.data))).toEqual(Array.from({ length: 12 }, () => hex(reference.next().data)));
    expect(aus[0]).toMatchObject({ codec: 'h264', keyframe: true, pts: 0 });
    expect(stream.framing).toBe('rtp-interleaved');
    expect(media.received[0]).toMatchObject({
      command: 'INVITESTREAM',
      params: { channel: 1, channelType: 'MAIN', sinkIp: '127.0.0.1', sinkPort: stream.port },
    });
    await stream.stop();
    expect(mediaPorts.inUse).toBe(0);
    expect(media.received.at(-1)).toMatchObject({ command: 'BYESTREAM', params: { session: stream.session } });
    expect(media.activeSessions).toBe(0);
  });

  it('FORCEIFRAME makes the next pictures start with a key frame before the GOP would', async () => {
    const { handle } = await rig();
    const stream = await handle.preview({ channel: 2, stream: 'sub' });
    c.add(() => stream.stop(), undefined);
    await take(stream, 3);
    await stream.forceIFrame();
    const next = await take(stream, 10);
    expect(next.some((a) => a.keyframe)).toBe(true); // the GOP is 50 pictures: only FORCEIFRAME explains it
  });

  it('playback: queries the range, then pause / resume / speed / seek / reverse reach the device', async () => {
    // One hour-long recording, so a seek five minutes in stays inside it.
    const hour: SimulatedRecording = {
      channel: 1,
      fileType: 0,
      name: 'ch0001_20260101000000',
      start: '2026-01-01 00:00:00',
      stop: '2026-01-01 01:00:00',
      size: 1000,
      flag: 0,
      startMs: Date.UTC(2026, 0, 1),
      durationMs: 3_600_000,
    };
    const { handle, media } = await rig({ media: { fps: 100 }, recordings: [hour] });
    const stream = await handle.playback({
      channel: 1,
      start: '2026-01-01 00:10:00',
      end: '2026-01-01 00:20:00',
      speed: 2,
    });
    c.add(() => stream.stop(), undefined);
    expect(stream.recordings.length).toBeGreaterThan(0);
    expect(media.received.find((r) => r.command === 'PLAYBACK')).toMatchObject({
      params: { channel: 1, fileName: stream.recordings[0]!.name, speed: 2, startTime: '2026-01-01 00:10:00' },
    });
    const pusher = media.pusherOf(stream.session)!;
    expect(pusher.speed).toBe(2);
    const first = await take(stream, 3);
    expect(first.map((a) => a.pts)).toEqual([0, 900, 1800]);

    await stream.pause();
    expect(pusher.isPaused).toBe(true);
    await stream.resume();
    expect(pusher.isPaused).toBe(false);
    await stream.setSpeed(0.25);
    expect(pusher.speed).toBe(0.25);
    await stream.setSpeed(8);
    expect(pusher.speed).toBe(8);

    await stream.seek('2026-01-01 00:15:00');
    // After the seek the pictures come from five minutes (300 s at 100 fps) into the range, starting with a key frame.
    let seeked: AccessUnit | undefined;
    for (let i = 0; i < 200 && !seeked; i++) {
      const [au] = await take(stream, 1);
      if (au!.pts! >= 300 * 90_000) seeked = au;
    }
    expect(seeked).toMatchObject({ keyframe: true, pts: 300 * 90_000 });

    await stream.setReverse(true);
    let reversed: AccessUnit[] = [];
    for (let i = 0; i < 200 && reversed.length < 3; i++) {
      const [au] = await take(stream, 1);
      if (au!.pts! < seeked!.pts!) reversed.push(au!);
      else reversed = [];
    }
    expect(reversed.every((a) => a.keyframe)).toBe(true);
    expect(reversed[1]!.pts! < reversed[0]!.pts!).toBe(true);
    expect(media.received.map((r) => r.params.action).filter(Boolean)).toEqual([
      'PAUSE',
      'RESUME',
      'SPEED',
      'SPEED',
      'SEEK',
      'REVERSE',
    ]);
  });

  it('playback of a range without recordings is a clear error and takes no port', async () => {
    const { handle, mediaPorts } = await rig();
    await expect(
      // The first recording of that day's first hour starts at 00:56:43.
      handle.playback({ channel: 1, start: '2030-01-01 00:00:00', end: '2030-01-01 00:00:05' }),
    ).rejects.toThrow(/no recording on channel 1/);
    expect(mediaPorts.inUse).toBe(0);
  });

  it('download writes the recording with progress, byte-exact to what the device sent', async () => {
    const { handle, server } = await rig({ media: { downloadSeconds: 1, fps: 25 } });
    const [file] = await handle.queryRecords({ channel: 1, start: '2026-01-01 00:00:00', stop: '2026-01-01 23:59:59' });
    const dir = server.pictures!.directory;
    const path = join(dir, 'download.ps');
    const progress: number[] = [];
    const r = await handle.download(file!, path, { onProgress: (p) => progress.push(p.bytes) });
    expect(r.bytes).toBe(r.fileSize);
    expect(progress.at(-1)).toBe(r.bytes);
    const demuxer = new PsDemuxer();
    const aus = [...demuxer.push(readFileSync(path)), ...demuxer.end()];
    const reference = new H264TestPatternGenerator({ width: 32, height: 32, fps: 25, gop: 25 });
    expect(aus.map((a) => hex(a.data))).toEqual(Array.from({ length: 25 }, () => hex(reference.next().data)));
  });

  it('port pool exhaustion is a clear error and leaks nothing', async () => {
    const { handle, mediaPorts, media } = await rig({ poolSize: 1 });
    const first = await handle.preview({ channel: 1 });
    c.add(() => first.stop(), undefined);
    await expect(handle.preview({ channel: 2 })).rejects.toBeInstanceOf(PortPoolExhaustedError);
    expect(mediaPorts.inUse).toBe(1);
    expect(media.received.filter((r) => r.command === 'INVITESTREAM')).toHaveLength(1);
    await first.stop();
    const again = await handle.preview({ channel: 2 });
    c.add(() => again.stop(), undefined);
    expect((await take(again, 1))[0]!.keyframe).toBe(true);
  });

  it('refuses a media connection from another address than the device', async () => {
    // The device's media connections come from 127.0.0.2, but it registered from 127.0.0.1.
    const { handle } = await rig({ media: { localAddress: '127.0.0.2' } });
    const stream = await handle.preview({ channel: 1, connectTimeoutMs: 300 });
    c.add(() => stream.stop(), undefined);
    await expect(take(stream, 1)).rejects.toBeInstanceOf(TimeoutError);
  });

  it('closing the server tears down its streams', async () => {
    const { handle, server, mediaPorts } = await rig();
    const stream = await handle.preview({ channel: 1 });
    await take(stream, 1);
    await (server as EhomeServer).close();
    expect(mediaPorts.inUse).toBe(0);
  });

  itInterop('the preview written as .h264 is a valid stream for ffprobe', ['ffprobe'], async () => {
    const { handle, server } = await rig({ media: { width: 64, height: 48 } });
    const stream = await handle.preview({ channel: 1 });
    c.add(() => stream.stop(), undefined);
    const aus = await take(stream, 20);
    const file = join(server.pictures!.directory, 'preview.h264');
    writeFileSync(file, Buffer.concat(aus.map((a) => a.data)));
    const out = execFileSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-count_frames',
        '-show_entries',
        'stream=codec_name,width,height,nb_read_frames',
        '-of',
        'json',
        file,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(JSON.parse(out).streams[0]).toMatchObject({
      codec_name: 'h264',
      width: 64,
      height: 48,
      nb_read_frames: '20',
    });
  });
});
