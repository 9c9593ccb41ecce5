/**
 * The simulated device's answers to platform commands (CAPTUREPICTURE, REBOOT, UPGRADE, PTZCONTROL, work status,
 * recorded files, pictures, capability, device configuration, and MEDIA through the media handler). A function of
 * the request and a {@link CommandContext} the device gives it, so it never imports the device.
 */
import {
  type CommandName,
  type EhomeRequest,
  type EhomeRequestOf,
  type EncodableMessage,
  encodeMessage,
  formatEhomeTime,
  type PictureEntry,
  type PtzCommand,
  type RequestParams,
  type ResponseParams,
  response,
  SignalTooLargeError,
  Status,
  type XmlTree,
} from '../codec/index.js';
import type { MediaHandler, SimulatedDeviceView } from './options.js';
import type { SimulatedRecording } from './recordings.js';

/** PTZ movement of a channel (the last command). */
export interface PtzState {
  command: PtzCommand;
  action: 'Start' | 'Stop';
  speed: number;
}

/** What {@link answerCommand} reads and changes of the device. */
export interface CommandContext {
  readonly deviceId: string;
  readonly channels: number;
  readonly devType: number | undefined;
  readonly serialNumber: string | undefined;
  readonly pictures: (PictureEntry & { channel: number })[];
  readonly ptzState: Map<number, PtzState>;
  readonly config: Map<string, XmlTree>;
  readonly mediaHandler: MediaHandler | undefined;
  /** The device as a media handler sees it. */
  readonly view: SimulatedDeviceView;
  takePicture(channel: number, picId: string): Uint8Array;
  uploadPicture(channel: number, picId: string): Promise<{ size: number; url: string }>;
  recordingsBetween(channel: number, fileType: number, start: string, stop: string): SimulatedRecording[];
  /** Runs after the answer is sent. */
  reboot(): void;
  /** Runs after the answer is sent. */
  upgrade(params: RequestParams<'UPGRADE'>): void;
  onPtz(state: PtzState & { channel: number }): void;
  onConfig(configCmd: string, xml: XmlTree): void;
}

export async function answerCommand(req: EhomeRequest, d: CommandContext): Promise<EncodableMessage> {
  const ok = <C extends CommandName>(r: EhomeRequestOf<C>, params: ResponseParams<C>): EncodableMessage =>
    response(r, Status.OK, 'OK', params) as EncodableMessage;
  const fail = (status: number, why: string): EncodableMessage => response(req, status, why);
  const hasChannel = (ch: number): boolean => ch >= 1 && ch <= d.channels;
  switch (req.command) {
    case 'CAPTUREPICTURE': {
      const p = req.params;
      if (!hasChannel(p.channel)) return fail(Status.NOT_FOUND, `no channel ${p.channel}`);
      if (p.uploadFlag === 0) {
        const jpeg = d.takePicture(p.channel, p.picId);
        d.pictures.push({
          picId: p.picId,
          time: formatEhomeTime(new Date()),
          size: jpeg.length,
          channel: p.channel,
        });
        return ok(req, { picId: p.picId, picSize: jpeg.length });
      }
      const up = await d.uploadPicture(p.channel, p.picId);
      return ok(req, { picId: p.picId, picSize: up.size, picUrl: up.url.slice(0, 512) });
    }
    case 'REBOOT':
      setImmediate(() => d.reboot());
      return ok(req, {});
    case 'UPGRADE':
      setImmediate(() => d.upgrade(req.params));
      return ok(req, {});
    case 'PTZCONTROL': {
      const p = req.params;
      if (!hasChannel(p.channel)) return fail(Status.NOT_FOUND, `no channel ${p.channel}`);
      const state = { command: p.ptzCmd, action: p.action, speed: p.speed };
      d.ptzState.set(p.channel, state);
      d.onPtz({ channel: p.channel, ...state });
      return ok(req, {});
    }
    case 'GETDEVICEWORKSTATUS':
      return ok(req, { status: workStatus(d.channels) });
    case 'QUERYRECORDEDFILES': {
      const p = req.params;
      if (!hasChannel(p.channel)) return fail(Status.NOT_FOUND, `no channel ${p.channel}`);
      const all = d.recordingsBetween(p.channel, p.fileType, p.startTime, p.stopTime);
      const files = all.slice(p.startIdx, p.startIdx + p.chunkSize).map(({ name, start, stop, size, flag }) => ({
        name,
        start,
        stop,
        size,
        flag,
      }));
      return fitting((n) => ok(req, { files: files.slice(0, n) }), files.length);
    }
    case 'QUERYPICTURES': {
      const p = req.params;
      const all = d.pictures.filter((x) => x.channel === p.channel && x.time >= p.startTime && x.time <= p.stopTime);
      const pictures = all
        .slice(p.startIdx, p.startIdx + p.chunkSize)
        .map(({ picId, time, size }) => ({ picId, time, size }));
      return fitting((n) => ok(req, { pictures: pictures.slice(0, n) }), pictures.length);
    }
    case 'GETDEVICECAPABILITY':
      return ok(req, {
        channelNumber: d.channels,
        startChannel: 1,
        streamTypes: 'MAIN,SUB,THIRD',
        ptz: 1,
        alarmInNumber: 1,
        alarmOutNumber: 1,
        maxPictureSize: 4 * 1024 * 1024,
        upgrade: 1,
        recordQuery: 1,
      });
    case 'GETDEVICECONFIG': {
      const cmd = req.params.configCmd;
      const xml = cmd === 'GetServerInfo' ? serverInfo(d) : d.config.get(cmd);
      if (!xml) return fail(Status.NOT_FOUND, `unknown ConfigCmd ${cmd}`);
      return ok(req, { configXml: xml });
    }
    case 'SETDEVICECONFIG': {
      const cmd = req.params.configCmd;
      if (cmd === 'GetServerInfo') return fail(Status.FORBIDDEN, 'GetServerInfo is read-only');
      d.config.set(cmd, req.params.configXml);
      d.onConfig(cmd, req.params.configXml);
      return ok(req, {});
    }
    case 'INVITESTREAM':
    case 'BYESTREAM':
    case 'PLAYBACK':
    case 'PLAYBACKCONTROL':
    case 'FORCEIFRAME':
    case 'DOWNLOAD': {
      if (!d.mediaHandler) return fail(Status.NOT_IMPLEMENTED, 'media not available on this device');
      const a = await d.mediaHandler(req, d.view);
      return response(req, a.status, a.description, a.params as never) as EncodableMessage;
    }
    default:
      return fail(Status.BAD_REQUEST, `${req.command} is not sent to a device`);
  }
}

/** GETDEVICEWORKSTATUS: a plausible, healthy device (CPU and memory from this process). */
function workStatus(channels: number): ResponseParams<'GETDEVICEWORKSTATUS'>['status'] {
  const mem = process.memoryUsage();
  return {
    run: 0,
    cpu: Math.min(100, Math.round((process.cpuUsage().user / 1e6) % 20) + 3),
    mem: Math.min(100, Math.round((mem.heapUsed / mem.heapTotal) * 100)),
    disks: [{ disk: 1, capacityMb: 953_869, freeMb: 512_000, state: 0 }],
    channels: Array.from({ length: channels }, (_, i) => ({
      channel: i + 1,
      recording: 1,
      signal: 0,
      encoding: 0,
      bitrateKbps: 2048,
      clients: 0,
    })),
    alarmInStatus: '',
    alarmOutStatus: '',
    localDisplayStatus: 0,
  };
}

/** The GetServerInfo configuration block (generated from the device's settings). */
function serverInfo(d: CommandContext): XmlTree {
  return {
    SERVERINFO: {
      ChannelNumber: String(d.channels),
      ChannelAmount: String(d.channels),
      DVRType: String(d.devType ?? 1),
      DiskNumber: '1',
      SerialNumber: d.serialNumber ?? `SIM${d.deviceId}`.slice(0, 48),
      AlarmInPortNum: '1',
      AlarmInAmount: '1',
      AlarmOutPortNum: '1',
      AlarmOutAmount: '1',
      StartChannel: '1',
      AudioChanNum: '1',
      MaxDigitChannelNum: '0',
      AudioEncType: '0',
      SmartType: '0',
      StartChan: '1',
      StartDChan: '0',
    },
  };
}

/** Answers with as many list items as fit in one signal (at most `count`). */
function fitting(build: (n: number) => EncodableMessage, count: number): EncodableMessage {
  for (let n = count; n > 0; n--) {
    const m = build(n);
    try {
      encodeMessage(m);
      return m;
    } catch (e) {
      if (!(e instanceof SignalTooLargeError)) throw e;
    }
  }
  return build(0);
}
