/**
 * Device side: the media a simulated camera answers MEDIA commands with (INVITESTREAM, PLAYBACK with its controls,
 * DOWNLOAD, FORCEIFRAME, BYESTREAM), from the shipped clips or the synthetic test pattern, pushed by MediaPusher.
 */
import { Status } from '../../codec/index.js';
import type { MediaFraming } from '../../codec/media/framing.js';
import { muxPs } from '../../codec/media/ps.js';
import { speedFromWire } from '../../codec/media/speed.js';
import type { MediaAnswer, MediaHandler, SimulatedDeviceView } from '../options.js';
import { CLIP_FRAME_TICKS, CLIP_GOP, type Clip, clipFrameAt, clipPsBytes, loadClip } from './clips.js';
import { H264TestPatternGenerator } from './h264-generator.js';
import { type AccessUnitSource, MediaPusher } from './pusher.js';

/** Settings of {@link EhomeDeviceMedia}. */
export interface EhomeDeviceMediaOptions {
  /**
   * What the device sends: `clips` (the default), real H.264 640x360 at 25 fps from the package's `media/` clips
   * (preview and playback are different scenes); or `test-pattern`, a synthetic I_PCM picture of `width` x
   * `height` at `fps` (uncompressed-sized: for tests that want tiny, exactly predictable frames). Setting `width`
   * or `height` without `video` selects the test pattern.
   */
  video?: 'clips' | 'test-pattern';
  /** Test pattern picture size. Default 64x48. */
  width?: number;
  height?: number;
  /** Test pattern frame rate (the clips are 25 fps). Default 25. */
  fps?: number;
  /** How the device frames its TCP media. Default interleaved RTP. */
  framing?: MediaFraming;
  /** Add the stray 0x0D after RTP headers like some devices. Default false. */
  strayByte?: boolean;
  /** Cuts a DOWNLOAD to this many seconds (then it no longer matches the index's size). Default: the whole recording. */
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
  /** Where FORCEIFRAME asks for a key frame. */
  keyframes: { requestKeyframe(): void };
  source: AccessUnitSource | undefined;
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
 * Frames of a looped clip from `first` on, `frames` of them (endless when undefined), forwards or backwards, with
 * seek. Time stamps count 90 kHz ticks from the start of the stretch. Backwards, only the IDR of each second is
 * sent (as devices play reverse: key frames only), one per tick. FORCEIFRAME jumps to the next second's IDR (a
 * pre-encoded clip can't make a new one), so the picture runs ahead by less than a second.
 */
export class ClipSource implements AccessUnitSource {
  private position: number;
  private reverse: boolean;

  constructor(
    private readonly clip: Clip,
    private readonly first: number,
    private readonly frames: number | undefined,
    reverse = false,
  ) {
    this.reverse = reverse;
    this.position = reverse && frames !== undefined ? this.gopStart(frames - 1) : 0;
  }

  next(): { data: Uint8Array; pts: number; keyframe: boolean } | undefined {
    const p = this.position;
    if (p < 0 || (this.frames !== undefined && p >= this.frames)) return undefined;
    const n = this.clip.frames.length;
    const frame = this.clip.frames[(this.first + p) % n]!;
    this.position = this.reverse ? this.gopStart(p) - CLIP_GOP : p + 1;
    return { data: frame.data, pts: (p * CLIP_FRAME_TICKS) % 2 ** 33, keyframe: frame.keyframe };
  }

  seek(ms: number): void {
    const last = this.frames === undefined ? Number.MAX_SAFE_INTEGER : this.frames - 1;
    this.position = this.gopStart(Math.min(last, Math.max(0, Math.floor((ms / 1000) * (90000 / CLIP_FRAME_TICKS)))));
  }

  setReverse(reverse: boolean): void {
    this.reverse = reverse;
    this.position = this.gopStart(Math.max(0, this.position - 1));
  }

  requestKeyframe(): void {
    if (!this.reverse) this.position = this.gopStart(this.position + CLIP_GOP - 1);
  }

  /** The stretch position of the IDR at or before position `p`. */
  private gopStart(p: number): number {
    return p - ((this.first + p) % CLIP_GOP);
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

  /** True when the device sends the shipped clips (the default), false for the synthetic test pattern. */
  get usesClips(): boolean {
    const o = this.options;
    return (o.video ?? (o.width !== undefined || o.height !== undefined ? 'test-pattern' : 'clips')) === 'clips';
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

  private async handle(command: string, p: Record<string, unknown>, device: SimulatedDeviceView): Promise<MediaAnswer> {
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
            s.keyframes.requestKeyframe();
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
    device: SimulatedDeviceView,
  ): MediaAnswer {
    const clips = this.usesClips;
    const fps = clips ? 25 : (this.options.fps ?? 25);
    let source: AccessUnitSource & { requestKeyframe?(): void };
    let keyframes: { requestKeyframe(): void } = { requestKeyframe: () => {} };
    let range: [number, number] | undefined;
    let fileSize: number | undefined;
    let pushFps = fps;
    if (command === 'INVITESTREAM') {
      if (clips) {
        // Start at the frame of the current second, so the seconds in the picture are the wall clock's.
        const live = new ClipSource(loadClip('live'), clipFrameAt(Date.now()), undefined);
        source = live;
        keyframes = live;
      } else {
        const generator = this.generator();
        source = { next: () => generator.next() };
        keyframes = generator;
      }
    } else {
      const rec =
        typeof p.fileName === 'string'
          ? device.findRecording(channel, { fileName: p.fileName })
          : device.findRecording(channel, { time: String(p.startTime) });
      if (!rec) return { status: Status.NOT_FOUND, description: 'no such recording' };
      const recEnd = rec.startMs + rec.durationMs;
      if (command === 'PLAYBACK') {
        const from = Math.max(rec.startMs, parseTime(String(p.startTime)));
        const to = Math.min(recEnd, parseTime(String(p.stopTime)));
        if (!(to > from)) return { status: Status.BAD_REQUEST, description: 'empty playback range' };
        range = [from, to];
        if (clips) {
          const frames = Math.round(((to - from) / 1000) * fps);
          source = new ClipSource(loadClip('playback'), clipFrameAt(from), frames, p.reverse === 1);
        } else {
          const generator = this.generator();
          source = new RecordingSource(generator, to - from, fps, p.reverse === 1);
          keyframes = generator;
        }
      } else {
        // DOWNLOAD: the whole recording (or `downloadSeconds` of it); its size is known before sending.
        const seconds = Math.min(rec.durationMs / 1000, this.options.downloadSeconds ?? Number.POSITIVE_INFINITY);
        const frames = Math.max(1, Math.round(seconds * fps));
        if (clips) {
          const clip = loadClip('playback');
          const first = clipFrameAt(rec.startMs);
          source = new ClipSource(clip, first, frames);
          fileSize = clipPsBytes(clip, first, frames);
        } else {
          const generator = this.generator();
          const clip = Array.from({ length: frames }, () => generator.next());
          fileSize = clip.reduce((n, au) => n + muxPs(au).length, 0);
          let i = 0;
          source = { next: () => clip[i++] };
        }
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
      keyframes,
      source: command === 'PLAYBACK' ? source : undefined,
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
