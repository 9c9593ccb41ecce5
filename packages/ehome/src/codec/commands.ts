import { FieldTypeError } from './errors.js';
import {
  EHOME_TIME,
  type Fields,
  flag,
  type Infer,
  int,
  intCodec,
  list,
  object,
  oneOf,
  optional,
  str,
  stringCodec,
  type TextCodec,
  time,
  tree,
} from './schema.js';

/** The eight sub-modules of EHome signalling (seed 002 (3)), as the `<Method>` element names them. */
export const Methods = {
  REGISTER: 'REGISTER',
  CONTROL: 'CONTROL',
  QUERY: 'QUERY',
  MEDIA: 'MEDIA',
  ALARM: 'ALARM',
  DATA: 'DATA',
  MESSAGE: 'MESSAGE',
  PARAM: 'PARAM',
} as const;
export type Method = (typeof Methods)[keyof typeof Methods];

/** Status codes seen on the wire (200, 401, 403) and the ones this implementation adds for its own answers. */
export const Status = {
  OK: 200,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
} as const;

/** A safe identifier: DeviceID, PicID, VideoId, Session (no spaces, no path characters). */
export const ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/;
const id = (tag: string) =>
  str(tag, { pattern: ID_PATTERN, max: 64, what: 'an identifier of 1-64 of A-Z a-z 0-9 _ . : @ -' });
const U32 = 0xffffffff;
const channel = () => int('Channel', 0, 4096);

// ---- structured text items ------------------------------------------------------------------------------------

/** One `<RecordedFile>` line: `name start stop size flag` (start and stop as `YYYY-MM-DD HH:MM:SS`). */
export interface RecordedFile {
  name: string;
  start: string;
  stop: string;
  size: number;
  flag: number;
}
const recordedFileCodec: TextCodec<RecordedFile> = {
  expected: 'a "name start stop size flag" line',
  shape: { kind: 'record', name: 'RecordedFile' },
  parse(t, path) {
    const p = t.split(/\s+/);
    if (p.length !== 7) throw new FieldTypeError(path, this.expected, t);
    const start = `${p[1]} ${p[2]}`;
    const stop = `${p[3]} ${p[4]}`;
    if (!EHOME_TIME.test(start) || !EHOME_TIME.test(stop)) throw new FieldTypeError(path, this.expected, t);
    return {
      name: nameCodec.parse(p[0]!, `${path}.name`),
      start,
      stop,
      size: sizeCodec.parse(p[5]!, `${path}.size`),
      flag: flagCodec.parse(p[6]!, `${path}.flag`),
    };
  },
  format(v, path) {
    for (const [k, t] of [
      ['start', v.start],
      ['stop', v.stop],
    ] as const) {
      if (!EHOME_TIME.test(t)) throw new FieldTypeError(`${path}.${k}`, 'a time as YYYY-MM-DD HH:MM:SS', t);
    }
    return `${nameCodec.format(v.name, `${path}.name`)} ${v.start} ${v.stop} ${sizeCodec.format(v.size, `${path}.size`)} ${flagCodec.format(v.flag, `${path}.flag`)}`;
  },
};
const nameCodec = stringCodec({ pattern: /^[^\s<>&]{1,64}$/, max: 64, what: 'a file name without spaces' });
const sizeCodec = intCodec(0, Number.MAX_SAFE_INTEGER);
const flagCodec = intCodec(0, 255);

/** One picture of a QUERYPICTURES answer: `PicID time size`. */
export interface PictureEntry {
  picId: string;
  time: string;
  size: number;
}
const picIdCodec = stringCodec({ pattern: ID_PATTERN, max: 64, what: 'a PicID' });
const pictureEntryCodec: TextCodec<PictureEntry> = {
  expected: 'a "PicID time size" line',
  shape: { kind: 'record', name: 'PictureEntry' },
  parse(t, path) {
    const p = t.split(/\s+/);
    if (p.length !== 4) throw new FieldTypeError(path, this.expected, t);
    const when = `${p[1]} ${p[2]}`;
    if (!EHOME_TIME.test(when)) throw new FieldTypeError(path, this.expected, t);
    return {
      picId: picIdCodec.parse(p[0]!, `${path}.picId`),
      time: when,
      size: sizeCodec.parse(p[3]!, `${path}.size`),
    };
  },
  format(v, path) {
    if (!EHOME_TIME.test(v.time)) throw new FieldTypeError(`${path}.time`, 'a time as YYYY-MM-DD HH:MM:SS', v.time);
    return `${picIdCodec.format(v.picId, `${path}.picId`)} ${v.time} ${sizeCodec.format(v.size, `${path}.size`)}`;
  },
};

/** A dash-separated tuple of integers (`<DSK>1-476940-0-0</DSK>`, `<CH>1-1-0-0-2048-0</CH>`). */
function dashTuple<const K extends readonly string[]>(keys: K): TextCodec<{ [P in K[number]]: number }> {
  const n = intCodec(0, Number.MAX_SAFE_INTEGER);
  const expected = `${keys.length} dash-separated integers (${keys.join('-')})`;
  return {
    expected,
    shape: { kind: 'record', name: keys.join('-') },
    parse(t, path) {
      const p = t.split('-');
      if (p.length !== keys.length) throw new FieldTypeError(path, expected, t);
      const out: Record<string, number> = {};
      keys.forEach((k, i) => {
        out[k] = n.parse(p[i]!, `${path}.${k}`);
      });
      return out as { [P in K[number]]: number };
    },
    format(v, path) {
      return keys.map((k) => n.format((v as Record<string, number>)[k]!, `${path}.${k}`)).join('-');
    },
  };
}
const diskCodec = dashTuple(['disk', 'capacityMb', 'freeMb', 'state'] as const);
const channelStatusCodec = dashTuple(['channel', 'recording', 'signal', 'encoding', 'bitrateKbps', 'clients'] as const);
export type DiskStatus = ReturnType<typeof diskCodec.parse>;
export type ChannelStatus = ReturnType<typeof channelStatusCodec.parse>;

// ---- the command table ----------------------------------------------------------------------------------------

/** Who sends the request of a command. */
export type Origin = 'device' | 'platform';

interface CommandDef {
  readonly method: Method;
  readonly origin: Origin;
  /** Whether the request carries `<Method>` (public captures of device requests omit it; we follow them). */
  readonly emitMethod: boolean;
  readonly request: Fields;
  readonly response: Fields;
}
const def = <const M extends Method, const O extends Origin, const R extends Fields, const S extends Fields>(
  method: M,
  origin: O,
  request: R,
  response: S,
  emitMethod = true,
): { method: M; origin: O; emitMethod: boolean; request: R; response: S } & CommandDef => ({
  method,
  origin,
  emitMethod,
  request,
  response,
});

export const PTZ_COMMANDS = [
  'LEFT',
  'RIGHT',
  'UP',
  'DOWN',
  'LEFT_UP',
  'LEFT_DOWN',
  'RIGHT_UP',
  'RIGHT_DOWN',
  'ZOOM_IN',
  'ZOOM_OUT',
  'FOCUS_NEAR',
  'FOCUS_FAR',
  'IRIS_OPEN',
  'IRIS_CLOSE',
  'AUTO',
] as const;
export type PtzCommand = (typeof PTZ_COMMANDS)[number];
export const STREAM_TYPES = ['MAIN', 'SUB', 'THIRD'] as const;
export const UPGRADE_STATES = ['DOWNLOADING', 'SUCCEEDED', 'FAILED'] as const;
/**
 * PLAYBACKCONTROL actions. `SPEED` takes `Speed`: n > 1 plays n times faster, n < -1 plays n times slower,
 * 1 (or -1) normal; `SEEK` takes `Time` (absolute playback); `REVERSE` / `FORWARD` set the direction.
 */
export const PLAYBACK_ACTIONS = ['PAUSE', 'RESUME', 'SPEED', 'SEEK', 'REVERSE', 'FORWARD'] as const;

const NONE = {} as const;

/**
 * Every command: its sub-module, who sends it, and the fields of its request and response `<Params>`.
 * Shapes from public captures (REGISTER, KEEPALIVE, GETDEVICECONFIG, GETDEVICEWORKSTATUS, QUERYRECORDEDFILES,
 * PTZCONTROL, GPS, INVITESTREAM, BYESTREAM) are followed exactly; the others are defined here in the same style
 * (see the README, "Where the captures are silent").
 */
export const COMMANDS = {
  // 1. REGISTER
  REGISTER: def(
    'REGISTER',
    'device',
    {
      netUnitType: str('NetUnitType', { max: 16 }),
      deviceId: id('DeviceID'),
      firmwareVersion: str('FirmwareVersion', { max: 128 }),
      localIp: str('LocalIP', { max: 64 }),
      localPort: int('LocalPort', 0, 65535),
      devType: int('DevType', 0, U32),
      manufacture: int('Manufacture', 0, U32),
      serialNumber: optional(str('SerialNumber', { max: 64 })),
      password: optional(str('Password', { max: 128 })),
      detectPackage: optional(flag('DetectPackage')),
      reliableTransmission: optional(flag('ReliableTransmission')),
      registerServer: optional(str('RegisterServer', { max: 128 })),
    },
    {
      keepAliveSeconds: int('KeepAliveSeconds', 1, 3600),
      alarmServerIp: optional(str('AlarmServerIP', { max: 64 })),
      alarmServerPort: optional(int('AlarmServerPort', 0, 65535)),
      alarmServerType: optional(int('AlarmServerType', 0, 255)),
      ntpServerIp: optional(str('NTPServerIP', { max: 64 })),
      ntpServerPort: optional(int('NTPServerPort', 0, 65535)),
      ntpInterval: optional(int('NTPInterval', 0, U32)),
      pictureServer: optional(str('PictureServer', { max: 64 })),
      pictureServerPort: optional(int('PictureServerPort', 0, 65535)),
      pictureServerType: optional(int('PictureServerType', 0, 255)),
      blackListAddr: optional(str('BlackListAddr', { max: 64 })),
      blackListName: optional(str('BlackListName', { max: 64 })),
      blackListPort: optional(int('BlackListPort', 0, 65535)),
      blackListUser: optional(str('BlackListUser', { max: 64 })),
      blackListPassword: optional(str('BlackListPassword', { max: 64 })),
      registerServerIp: optional(str('RegisterServerIP', { max: 64 })),
      registerServerPort: optional(int('RegisterServerPort', 0, 65535)),
    },
    false,
  ),
  LOGOUT: def('REGISTER', 'device', { deviceId: id('DeviceID') }, NONE),
  // 2. CONTROL
  KEEPALIVE: def('CONTROL', 'device', { deviceId: id('DeviceID') }, NONE, false),
  CAPTUREPICTURE: def(
    'CONTROL',
    'platform',
    {
      channel: channel(),
      resolution: optional(str('Resolution', { max: 32 })),
      quality: optional(int('Quality', 0, 2)),
      uploadFlag: flag('UploadFlag'),
      picId: id('PicID'),
    },
    { picId: id('PicID'), picSize: optional(int('PicSize', 0, U32)), picUrl: optional(str('PicURL', { max: 512 })) },
  ),
  REBOOT: def('CONTROL', 'platform', NONE, NONE),
  UPGRADE: def(
    'CONTROL',
    'platform',
    {
      url: str('URL', { max: 512, pattern: /^https?:\/\/\S+$/i, what: 'an http:// or https:// URL' }),
      version: optional(str('Version', { max: 64 })),
      fileSize: optional(int('FileSize', 0, Number.MAX_SAFE_INTEGER)),
      sha256: optional(str('SHA256', { pattern: /^[0-9a-f]{64}$/, what: '64 lowercase hex digits' })),
    },
    NONE,
  ),
  PTZCONTROL: def(
    'CONTROL',
    'platform',
    {
      channel: channel(),
      ptzCmd: oneOf('PTZCmd', PTZ_COMMANDS),
      action: oneOf('Action', ['Start', 'Stop'] as const),
      speed: int('Speed', 1, 7),
    },
    NONE,
  ),
  // 3. QUERY
  GETDEVICEWORKSTATUS: def('QUERY', 'platform', NONE, {
    status: object('DeviceStatusXML', {
      run: int('Run', 0, 255),
      cpu: int('CPU', 0, 100),
      mem: int('Mem', 0, 100),
      disks: list('DSK', diskCodec, 32, 'DSKStatus'),
      channels: list('CH', channelStatusCodec, 64, 'CHStatus'),
      alarmInStatus: optional(str('AlarmInStatus', { max: 128 })),
      alarmOutStatus: optional(str('AlarmOutStatus', { max: 128 })),
      localDisplayStatus: optional(int('LocalDisplayStatus', 0, 255)),
      remark: optional(str('Remark', { max: 128 })),
    }),
  }),
  QUERYRECORDEDFILES: def(
    'QUERY',
    'platform',
    {
      channel: channel(),
      fileType: int('FileType', 0, 255),
      startTime: time('StartTime'),
      stopTime: time('StopTime'),
      chunkSize: int('ChunkSize', 1, 16),
      startIdx: int('StartIdx', 0, U32),
    },
    { files: list('RecordedFile', recordedFileCodec, 16) },
  ),
  GETDEVICECAPABILITY: def('QUERY', 'platform', NONE, {
    channelNumber: int('ChannelNumber', 0, 4096),
    startChannel: int('StartChannel', 0, 4096),
    streamTypes: str('StreamTypes', { max: 32, pattern: /^(MAIN|SUB|THIRD)(,(MAIN|SUB|THIRD))*$/ }),
    ptz: flag('PTZ'),
    alarmInNumber: int('AlarmInNumber', 0, 1024),
    alarmOutNumber: int('AlarmOutNumber', 0, 1024),
    maxPictureSize: int('MaxPictureSize', 0, U32),
    upgrade: flag('Upgrade'),
    recordQuery: flag('RecordQuery'),
  }),
  QUERYPICTURES: def(
    'QUERY',
    'platform',
    {
      channel: channel(),
      startTime: time('StartTime'),
      stopTime: time('StopTime'),
      chunkSize: int('ChunkSize', 1, 16),
      startIdx: int('StartIdx', 0, U32),
    },
    { pictures: list('Picture', pictureEntryCodec, 16) },
  ),
  // 4. MEDIA (part 1 defines the two captured commands; preview/playback control is issue 8)
  INVITESTREAM: def(
    'MEDIA',
    'platform',
    {
      channel: channel(),
      channelType: oneOf('ChannelType', STREAM_TYPES),
      sinkIp: str('SinkIP', { max: 64 }),
      sinkPort: int('SinkPort', 1, 65535),
    },
    { session: id('Session') },
  ),
  BYESTREAM: def('MEDIA', 'platform', { session: id('Session') }, { session: optional(id('Session')) }),
  // Defined here (captures are silent) so part 2 can drive them: playback of a file or a time range pushed to
  // SinkIP:SinkPort like INVITESTREAM, its control, a key frame on demand, a file download. BYESTREAM ends any.
  PLAYBACK: def(
    'MEDIA',
    'platform',
    {
      channel: channel(),
      startTime: time('StartTime'),
      stopTime: time('StopTime'),
      fileName: optional(str('FileName', { pattern: /^[^\s<>&]{1,64}$/, what: 'a file name without spaces' })),
      sinkIp: str('SinkIP', { max: 64 }),
      sinkPort: int('SinkPort', 1, 65535),
      reverse: optional(flag('Reverse')),
      speed: optional(int('Speed', -16, 16)),
    },
    { session: id('Session') },
  ),
  PLAYBACKCONTROL: def(
    'MEDIA',
    'platform',
    {
      session: id('Session'),
      action: oneOf('Action', PLAYBACK_ACTIONS),
      speed: optional(int('Speed', -16, 16)),
      time: optional(time('Time')),
    },
    NONE,
  ),
  FORCEIFRAME: def('MEDIA', 'platform', { channel: channel(), channelType: oneOf('ChannelType', STREAM_TYPES) }, NONE),
  DOWNLOAD: def(
    'MEDIA',
    'platform',
    {
      channel: channel(),
      fileName: str('FileName', { pattern: /^[^\s<>&]{1,64}$/, what: 'a file name without spaces' }),
      sinkIp: str('SinkIP', { max: 64 }),
      sinkPort: int('SinkPort', 1, 65535),
    },
    { session: id('Session'), fileSize: optional(int('FileSize', 0, Number.MAX_SAFE_INTEGER)) },
  ),
  // 5. ALARM
  ALARM: def(
    'ALARM',
    'device',
    {
      deviceId: id('DeviceID'),
      channel: channel(),
      alarmType: str('AlarmType', { pattern: /^[A-Za-z0-9_]{1,32}$/, what: 'a word of A-Z a-z 0-9 _' }),
      alarmTime: time('AlarmTime'),
      description: optional(str('Description', { max: 256 })),
      picIds: list('PicID', picIdCodec, 8),
      videoId: optional(id('VideoId')),
      needsResponse: optional(flag('NeedsResponse')),
    },
    NONE,
  ),
  // 6. DATA
  TRANSDATA: def(
    'DATA',
    'device',
    {
      deviceId: id('DeviceID'),
      dataType: optional(str('DataType', { pattern: /^[A-Za-z0-9_]{1,32}$/ })),
      data: str('Data', { max: 1024, pattern: /^[A-Za-z0-9+/]*={0,2}$/, what: 'base64 of at most 1024 characters' }),
    },
    NONE,
  ),
  // 7. MESSAGE
  GPS: def(
    'MESSAGE',
    'device',
    {
      deviceId: id('DeviceID'),
      time: time('Time'),
      divisionEW: oneOf('DivisionEW', ['E', 'W'] as const),
      longitude: int('Longitude', 0, 180 * 360000),
      divisionNS: oneOf('DivisionNS', ['N', 'S'] as const),
      latitude: int('Latitude', 0, 90 * 360000),
      direction: int('Direction', 0, 36000),
      speed: int('Speed', 0, U32),
      satellites: int('Satellites', 0, 255),
      precision: int('Precision', 0, U32),
      height: int('Height', -1_000_000, 10_000_000),
      retransFlag: optional(flag('RetransFlag')),
      needsResponse: optional(flag('NeedsResponse')),
      timeZone: optional(str('TimeZone', { pattern: /^[+-]\d{2}:\d{2}$/, what: '+HH:MM' })),
      remark: optional(str('Remark', { max: 128 })),
    },
    { retransFlag: optional(flag('RetransFlag')) },
    false,
  ),
  DEVICESTATUS: def(
    'MESSAGE',
    'device',
    {
      deviceId: id('DeviceID'),
      time: time('Time'),
      statusType: str('StatusType', { pattern: /^[A-Za-z0-9_]{1,32}$/ }),
      channel: optional(channel()),
      description: optional(str('Description', { max: 256 })),
    },
    NONE,
  ),
  UPGRADESTATUS: def(
    'MESSAGE',
    'device',
    {
      deviceId: id('DeviceID'),
      state: oneOf('State', UPGRADE_STATES),
      progress: int('Progress', 0, 100),
      bytes: optional(int('Bytes', 0, Number.MAX_SAFE_INTEGER)),
      sha256: optional(str('SHA256', { pattern: /^[0-9a-f]{64}$/, what: '64 lowercase hex digits' })),
      reason: optional(str('Reason', { max: 256 })),
    },
    NONE,
  ),
  // 8. PARAM
  GETDEVICECONFIG: def(
    'PARAM',
    'platform',
    {
      configCmd: str('ConfigCmd', { pattern: /^[A-Za-z0-9_]{1,64}$/ }),
      configParam1: optional(int('ConfigParam1', 0, U32)),
      configParam2: optional(int('ConfigParam2', 0, U32)),
      configParam3: optional(int('ConfigParam3', 0, U32)),
      configParam4: optional(int('ConfigParam4', 0, U32)),
    },
    { configXml: tree('ConfigXML') },
  ),
  SETDEVICECONFIG: def(
    'PARAM',
    'platform',
    {
      configCmd: str('ConfigCmd', { pattern: /^[A-Za-z0-9_]{1,64}$/ }),
      configParam1: optional(int('ConfigParam1', 0, U32)),
      configParam2: optional(int('ConfigParam2', 0, U32)),
      configParam3: optional(int('ConfigParam3', 0, U32)),
      configParam4: optional(int('ConfigParam4', 0, U32)),
      configXml: tree('ConfigXML'),
    },
    NONE,
  ),
};

export type Commands = typeof COMMANDS;
export type CommandName = keyof Commands;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];
/** Params of the request of command `C`. */
export type RequestParams<C extends CommandName> = Infer<Commands[C]['request']>;
/** Params of a successful response to command `C`. */
export type ResponseParams<C extends CommandName> = Infer<Commands[C]['response']>;
/** Commands whose request the device sends / the platform sends. */
export type DeviceCommand = { [C in CommandName]: Commands[C]['origin'] extends 'device' ? C : never }[CommandName];
export type PlatformCommand = Exclude<CommandName, DeviceCommand>;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}
