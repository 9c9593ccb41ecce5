import { Status } from '../codec/index.js';
import type { EhomeDevice, MediaAnswer, MediaHandler } from '../device/device.js';
import type { SimulatedRecording } from '../device/recordings.js';
import type { MediaFraming } from './framing.js';
import { H264TestPatternGenerator } from './h264-generator.js';
import { speedFromWire } from './platform.js';
import { muxPs } from './ps.js';
import { type AccessUnitSource, MediaPusher } from './pusher.js';

/** Settings of {@link EhomeDeviceMedia}. */
export interface EhomeDeviceMediaOptions {
  /** Picture size of the generated H.264 (I_PCM: keep it small). Default 64x48. */
  width?: number;
  height?: number;
  /** Frame rate of live and recorded video. Default 25. */
  fps?: number;
  /** How the device frames its TCP media. Default interleaved RTP. */
  framing?: MediaFraming;
  /** Add the stray 0x0D after RTP headers like some devices. Default false. */
  strayByte?: boolean;
  /** Seconds of video a DOWNLOAD of a simulated recording carries. Default 4. */
  downloadSeconds?: number;
  /** Source address of media connections. */
  localAddress?: string;
  /** Most simultaneous streams. Default 8. */
  maxSessions?: number;
}

/** A media command as the device received it (for logs and tests). */
export interface ReceivedMediaCommand {
  command: string;
  params: Record<string, unknown>;
}

interface Session {
  kind: 'preview' | 'playback' | 'download';
  pusher: MediaPusher;
  channel: number;
  channelType?: string;
  generator: H264TestPatternGenerator;
  source: RecordingSource | undefined;
  sink: string;
  /** Playback range in ms since the epoch (SEEK must fall inside). */
  range?: [number, number];
}

/** `YYYY-MM-DD HH:MM:SS` (device time, taken as UTC) -> ms since the epoch. */
function parseTime(t: string): number {
  return Date.parse(`${t.replace(' ', 'T')}Z`);
}

/**
 * A stretch of a simulated recording played at the recording's frame rate, forwards or backwards, with seek. In
 * reverse every picture is a key frame (as devices send reverse playback: I-frames only).
 */
export class RecordingSource implements AccessUnitSource {
  private readonly generator: H264TestPatternGenerator;
  private readonly frames: number;
  private readonly fps: number;
  private position: number;
  private reverse: boolean;

  constructor(generator: H264TestPatternGenerator, durationMs: number, fps: number, reverse = false) {
    this.generator = generator;
    this.fps = fps;
    this.frames = Math.max(1, Math.floor((durationMs / 1000) * fps));
    this.reverse = reverse;
    this.position = reverse ? this.frames - 1 : 0;
  }

  /** Frames in the stretch. */
  get length(): number {
    return this.frames;
  }

  next(): { data: Uint8Array; pts: number; keyframe: boolean } | undefined {
    if (this.position < 0 || this.position >= this.frames) return undefined;
    if (this.generator.position !== this.position) this.generator.seekFrame(this.position);
    if (this.reverse) this.generator.requestKeyframe();
    const au = this.generator.next();
    this.position += this.reverse ? -1 : 1;
    return au;
  }

  seek(ms: number): void {
    this.position = Math.min(this.frames - 1, Math.max(0, Math.floor((ms / 1000) * this.fps)));
    this.generator.requestKeyframe();
  }

  setReverse(reverse: boolean): void {
    this.reverse = reverse;
    this.generator.requestKeyframe();
  }
}

/**
 * The media side of a simulated EHome device: answers INVITESTREAM (live H.264 test pattern), PLAYBACK of its
 * simulated recordings with PLAYBACKCONTROL (pause, resume, fast/slow, seek, reverse), FORCEIFRAME, DOWNLOAD and
 * BYESTREAM, pushing MPEG-PS over RTP to the platform's sink. Plug it in with `new EhomeDevice({ mediaHandler:
 * media.handler })`.
 */
export class EhomeDeviceMedia {
  readonly options: EhomeDeviceMediaOptions;
  /** Every media command received, in order. */
  readonly received: ReceivedMediaCommand[] = [];
  private readonly sessions = new Map<string, Session>();
  private counter = 0;

  constructor(options: EhomeDeviceMediaOptions = {}) {
    this.options = options;
  }

  /** The handler to give the device. */
  readonly handler: MediaHandler = (request, device) => this.handle(request.command, request.params as never, device);

  /** Streams running now. */
  get activeSessions(): number {
    return this.sessions.size;
  }

  /** The pusher of a session (for inspection). */
  pusherOf(session: string): MediaPusher | undefined {
    return this.sessions.get(session)?.pusher;
  }

  /** Stops every stream. */
  close(): void {
    for (const s of this.sessions.values()) s.pusher.stop();
    this.sessions.clear();
  }

  private generator(): H264TestPatternGenerator {
    const fps = this.options.fps ?? 25;
    return new H264TestPatternGenerator({
      width: this.options.width ?? 64,
      height: this.options.height ?? 48,
      fps,
      gop: fps,
    });
  }

  private async handle(command: string, p: Record<string, unknown>, device: EhomeDevice): Promise<MediaAnswer> {
    this.received.push({ command, params: { ...p } });
    const ok = (params: Record<string, unknown> = {}): MediaAnswer => ({
      status: Status.OK,
      description: 'OK',
      params: params as never,
    });
    const fail = (status: number, description: string): MediaAnswer => ({ status, description });
    switch (command) {
      case 'INVITESTREAM':
      case 'PLAYBACK':
      case 'DOWNLOAD': {
        const sink = `${String(p.sinkIp)}:${String(p.sinkPort)}`;
        // A resent request for the same sink is the same stream.
        for (const [id, s] of this.sessions)
          if (s.sink === sink) return ok(command === 'DOWNLOAD' ? { session: id, fileSize: 0 } : { session: id });
        if (this.sessions.size >= (this.options.maxSessions ?? 8))
          return fail(Status.INTERNAL_ERROR, 'too many streams');
        const channel = Number(p.channel);
        const channels = device.channels;
        if (!(channel >= 1 && channel <= channels)) return fail(Status.NOT_FOUND, `no channel ${channel}`);
        return this.startStream(command, p, channel, sink, device);
      }
      case 'BYESTREAM': {
        const s = this.sessions.get(String(p.session));
        if (!s) return fail(Status.NOT_FOUND, `no stream session ${String(p.session)}`);
        s.pusher.stop();
        this.sessions.delete(String(p.session));
        return ok({ session: String(p.session) });
      }
      case 'PLAYBACKCONTROL': {
        const s = this.sessions.get(String(p.session));
        if (s?.kind !== 'playback' || !s.source)
          return fail(Status.NOT_FOUND, `no playback session ${String(p.session)}`);
        switch (p.action) {
          case 'PAUSE':
            s.pusher.pause();
            break;
          case 'RESUME':
            s.pusher.resume();
            break;
          case 'SPEED':
            if (typeof p.speed !== 'number') return fail(Status.BAD_REQUEST, 'SPEED needs Speed');
            s.pusher.setSpeed(speedFromWire(p.speed));
            break;
          case 'SEEK': {
            const rec = s.range;
            const t = typeof p.time === 'string' ? parseTime(p.time) : Number.NaN;
            if (!rec || !(t >= rec[0] && t <= rec[1]))
              return fail(Status.BAD_REQUEST, 'SEEK time outside the playback range');
            s.pusher.seek(t - rec[0]);
            break;
          }
          case 'REVERSE':
          case 'FORWARD':
            s.pusher.setReverse(p.action === 'REVERSE');
            break;
          default:
            return fail(Status.BAD_REQUEST, `unknown action ${String(p.action)}`);
        }
        return ok();
      }
      case 'FORCEIFRAME': {
        let n = 0;
        for (const s of this.sessions.values()) {
          if (s.kind === 'preview' && s.channel === Number(p.channel) && s.channelType === p.channelType) {
            s.generator.requestKeyframe();
            n++;
          }
        }
        return n > 0 ? ok() : fail(Status.NOT_FOUND, 'no live stream on that channel');
      }
      default:
        return fail(Status.NOT_IMPLEMENTED, `${command} is not supported`);
    }
  }

  private startStream(
    command: string,
    p: Record<string, unknown>,
    channel: number,
    sink: string,
    device: EhomeDevice,
  ): MediaAnswer {
    const fps = this.options.fps ?? 25;
    const generator = this.generator();
    let source: AccessUnitSource;
    let recordingSource: RecordingSource | undefined;
    let range: [number, number] | undefined;
    let fileSize: number | undefined;
    let pushFps = fps;
    if (command === 'INVITESTREAM') {
      source = { next: () => generator.next() };
    } else {
      const rec = findRecording(device.recordings, channel, p);
      if (!rec) return { status: Status.NOT_FOUND, description: 'no such recording' };
      if (command === 'PLAYBACK') {
        const from = Math.max(parseTime(rec.start), parseTime(String(p.startTime)));
        const to = Math.min(parseTime(rec.stop), parseTime(String(p.stopTime)));
        if (!(to > from)) return { status: Status.BAD_REQUEST, description: 'empty playback range' };
        range = [from, to];
        recordingSource = new RecordingSource(generator, to - from, fps, p.reverse === 1);
        source = recordingSource;
      } else {
        // DOWNLOAD: a short clip stands for the file; its size is known before sending.
        const clip = Array.from({ length: Math.round((this.options.downloadSeconds ?? 4) * fps) }, () =>
          generator.next(),
        );
        fileSize = clip.reduce((n, au) => n + muxPs(au).length, 0);
        let i = 0;
        source = { next: () => clip[i++] };
        pushFps = 1000;
      }
    }
    const [host, port] = [String(p.sinkIp), Number(p.sinkPort)];
    const pusher = new MediaPusher({
      host,
      port,
      source,
      fps: pushFps,
      framing: this.options.framing ?? 'rtp-interleaved',
      strayByte: this.options.strayByte ?? false,
      ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}),
    });
    const id = `${command === 'INVITESTREAM' ? 'live' : command === 'PLAYBACK' ? 'pb' : 'dl'}${device.deviceId.replace(/[^A-Za-z0-9]/g, '')}${++this.counter}`;
    const session: Session = {
      kind: command === 'INVITESTREAM' ? 'preview' : command === 'PLAYBACK' ? 'playback' : 'download',
      pusher,
      channel,
      generator,
      source: recordingSource,
      sink,
      ...(typeof p.channelType === 'string' ? { channelType: p.channelType } : {}),
      ...(range ? { range } : {}),
    };
    if (command === 'PLAYBACK' && typeof p.speed === 'number') pusher.setSpeed(speedFromWire(p.speed));
    this.sessions.set(id, session);
    // Answer at once and connect in the background, as devices do; a failed connect ends the session.
    pusher
      .start()
      .then(() => pusher.finished)
      .catch(() => undefined)
      .finally(() => {
        if (this.sessions.get(id)?.pusher === pusher) this.sessions.delete(id);
      });
    return {
      status: Status.OK,
      description: 'OK',
      params: (fileSize === undefined ? { session: id } : { session: id, fileSize }) as never,
    };
  }
}

function findRecording(
  index: readonly SimulatedRecording[],
  channel: number,
  p: Record<string, unknown>,
): SimulatedRecording | undefined {
  if (typeof p.fileName === 'string') return index.find((r) => r.name === p.fileName && r.channel === channel);
  const start = String(p.startTime);
  return index.find((r) => r.channel === channel && r.start <= start && r.stop > start);
}
