/**
 * The simulated device's contracts: its settings, events and counters, and what a media handler is given and
 * answers. Types only, so every part of the device can import them without importing the device.
 */
import type { BackoffOptions } from '@cam/net-utils';
import type {
  CommandName,
  EhomeRequest,
  PtzCommand,
  RequestParams,
  ResponseParams,
  SignalEncoding,
  XmlTree,
} from '../codec/index.js';
import type { RecordingSizer, SimulatedRecording } from './recordings.js';

/** Answer a media handler gives (part 2 of the issue plugs preview and playback in here). */
export interface MediaAnswer<C extends CommandName = CommandName> {
  status: number;
  description: string;
  params?: ResponseParams<C>;
}
/** Handles MEDIA requests (INVITESTREAM, BYESTREAM, PLAYBACK, PLAYBACKCONTROL, FORCEIFRAME, DOWNLOAD). Without one the device answers 501. */
export type MediaHandler = (request: EhomeRequest, device: SimulatedDeviceView) => Promise<MediaAnswer>;

/** What a media handler may ask of the device it serves. */
export interface SimulatedDeviceView {
  readonly deviceId: string;
  /** Number of video channels (1..64). */
  readonly channels: number;
  /** The recording a PLAYBACK or DOWNLOAD names, by file name or by a time inside it. */
  findRecording(channel: number, by: { fileName?: string; time?: string }): SimulatedRecording | undefined;
}

/** Settings of a simulated `EhomeDevice`. */
export interface EhomeDeviceOptions {
  /** Register server (IP address and port). */
  server: { host: string; port: number };
  deviceId: string;
  /** EHome 4.0 `<Password>` sent in REGISTER. */
  password?: string;
  /** `<Version>`: "2.0" (GB2312 signals) or "4.0" (UTF-8). Default "4.0". */
  version?: string;
  /** Signal encoding; default GB2312 for 2.x, UTF-8 otherwise. */
  encoding?: SignalEncoding;
  firmwareVersion?: string;
  devType?: number;
  manufacture?: number;
  serialNumber?: string;
  /** Local address and port to send from. Default 0.0.0.0 and any port. */
  localAddress?: string;
  localPort?: number;
  /** Video channels, 1..64. Default 1. */
  channels?: number;
  /**
   * A fixed recording index. Default: every day has recordings, derived from its date
   * ({@link simulatedRecordingIndex}), sized as their download of the shipped playback clip weighs.
   */
  recordings?: SimulatedRecording[];
  /** Day listed in {@link EhomeDevice.recordings} (any day can be queried). Default today (UTC). */
  recordingDay?: string;
  /** Bytes a download of a stretch of recording weighs. Default: MPEG-PS of the shipped playback clip. */
  recordingSizer?: RecordingSizer;
  /** Register retry backoff. Default 500 ms doubling to 30 s with 20 % jitter. */
  backoff?: BackoffOptions;
  /** Wait for a REGISTER reply per attempt. Default 2000 ms. */
  registerAttemptMs?: number;
  /** Wait per attempt of the device's own requests (alarm, GPS, status) before resending. Default 1000 ms. */
  requestAttemptMs?: number;
  /** Resends of those requests. Default 3. */
  maxResends?: number;
  /** Unanswered KEEPALIVEs in a row after which the device registers again. Default 3. */
  keepAliveMissLimit?: number;
  /** Largest upgrade package downloaded. Default 64 MiB. */
  maxUpgradeBytes?: number;
  /** Largest reply of the picture server read after an upload (more is a `FrameTooLargeError`). Default 64 KiB. */
  maxReplyBytes?: number;
  /** Pause between REBOOT and registering again. Default 200 ms. */
  rebootDelayMs?: number;
  /** Makes the picture of a capture or alarm; default a JPEG of the preview scene at that second. */
  takePicture?: (channel: number, picId: string) => Uint8Array;
  /** Configuration blocks by ConfigCmd (GETDEVICECONFIG/SETDEVICECONFIG); GetServerInfo is generated. */
  config?: Record<string, XmlTree>;
  /** MEDIA requests (preview, playback). */
  mediaHandler?: MediaHandler;
}

/** Events of an `EhomeDevice`. */
export interface EhomeDeviceEvents {
  registered: [params: ResponseParams<'REGISTER'>];
  /** The platform answered REGISTER with a non-200 status (wrong password, not allowed); the device retries. */
  refused: [status: number, description: string];
  reregistering: [reason: string];
  command: [request: EhomeRequest];
  reboot: [];
  ptz: [state: { channel: number; command: PtzCommand; action: 'Start' | 'Stop'; speed: number }];
  upgrade: [report: RequestParams<'UPGRADESTATUS'>];
  config: [configCmd: string, xml: XmlTree];
  dropped: [reason: string];
}

/** Counters of a device. */
export interface EhomeDeviceStats {
  registrations: number;
  registerAttempts: number;
  keepalivesSent: number;
  /** KEEPALIVEs the platform answered (with any status). */
  keepalivesAnswered: number;
  keepalivesMissed: number;
  commands: number;
  duplicateRequests: number;
  dropped: number;
}
