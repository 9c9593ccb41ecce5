import type { PortPool } from '@cam/net-utils';
import type { EhomeStore, RetentionPolicy } from '../store/types.js';
import type { PictureServerOptions } from './picture-server.js';
import type { DeviceRegistry } from './registry.js';

/** Default EHome register port (seed 002 (2)e). */
export const DEFAULT_REGISTER_PORT = 7660;
/** Alarm server port seen in captures. */
export const DEFAULT_ALARM_PORT = 7332;

/** `AlarmServerType` / `PictureServerType` values this platform advertises. */
export const ALARM_SERVER_TYPE_UDP = 0;
export const PICTURE_SERVER_TYPE_HTTP = 1;

/** Settings of an {@link EhomeServer}. Every one has a default. */
export interface EhomeServerOptions {
  /** Address to bind the register (CMS), alarm and picture servers to. Default 0.0.0.0. */
  address?: string;
  /** Register port. Default 7660; 0 picks a free one. */
  port?: number;
  /**
   * TCP ports for preview, playback and download streams: a pool, or a range to make one from (bound on `address`).
   * Default 20000-20999.
   */
  mediaPorts?: PortPool | { min: number; max: number };
  /** SinkIP told to devices for media streams. Default: the advertised address. */
  mediaAddress?: string;
  /** Address told to devices for the alarm and picture servers. Default: `address`, or the first non-loopback IPv4. */
  advertisedAddress?: string;
  /** Heartbeat interval sent in the REGISTER reply. Default 15 s. */
  keepAliveSeconds?: number;
  /** A device silent for this many intervals is offline. Default 6 (90 s at 15 s). */
  offlineAfterMissed?: number;
  /** How often sessions are checked for silence and links for expiry. Default 1000 ms. */
  sweepIntervalMs?: number;
  /** Alarm server (AMS) UDP port; default 7332; `false` runs none. */
  alarmPort?: number | false;
  /** Picture server HTTP port; default 0 (any); `false` runs none. */
  picturePort?: number | false;
  /** Where uploaded pictures and videos go. Default `<tmpdir>/cam-ehome`. */
  dataDirectory?: string;
  /** Limits of the picture server. */
  maxPictureBytes?: number;
  maxVideoBytes?: number;
  maxStoredBytes?: number;
  /** Connection and rate limits of the picture server (see the README's Limits table for the defaults). */
  pictureLimits?: Pick<
    PictureServerOptions,
    | 'maxConcurrentUploads'
    | 'maxUploadsPerSource'
    | 'maxConnectionsPerSource'
    | 'maxConnections'
    | 'minUploadBytesPerSecond'
    | 'uploadGraceMs'
  >;
  /** NTP server told to devices. */
  ntp?: { ip: string; port?: number; intervalMinutes?: number };
  /** Access control: only these DeviceIDs may register. */
  allowlist?: Iterable<string>;
  /** Access control: per-device passwords (EHome 4.0 `<Password>`), compared in constant time. */
  passwords?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** Status that tells a device to register again (answer to signals from unknown devices). Default 403. */
  reRegisterStatus?: number;
  /** Wait per attempt of a platform request before resending. Default 2000 ms. */
  requestAttemptMs?: number;
  /** Resends of a platform request before it times out. Default 3. */
  maxResends?: number;
  /** How long an alarm waits for its pictures/videos (and media for its alarm). Default 30 s. */
  linkTimeoutMs?: number;
  /**
   * Where sessions, events, alarms, pictures (metadata) and command history are kept: `openEmbeddedStore(dir)`,
   * `openPostgresStore(url)`, or by default a {@link MemoryStore}. Alarms and uploads are acknowledged only after
   * their record is committed here. The caller opens it and closes it after the server.
   */
  store?: EhomeStore;
  /** What the store keeps (days, media bytes, event count); enforced once a minute. Default: everything. */
  retention?: RetentionPolicy;
  /** Where sessions live. Default {@link MemoryDeviceRegistry}. */
  registry?: DeviceRegistry;
  /** Log sink (NAT rebinding, refusals, drops). Default: none. */
  log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
  /**
   * UDP receive buffer of the register and alarm sockets, bytes (default 4 MiB; Linux caps it at
   * `net.core.rmem_max`): bursts of REGISTER or ALARM from many devices, or a flood. While the kernel's queue is full
   * it drops datagrams blindly, a legitimate device's REGISTER and KEEPALIVE among them.
   */
  recvBufferSize?: number;
  /**
   * 'dropped' events published for bad datagrams of the register and alarm ports per second at most (the rest are
   * counted in `stats.droppedEventsSuppressed`); none is built at all while nobody listens ('dropped', 'event' or
   * `events()`). Default 100. A flood then costs the platform a byte check and a counter per datagram.
   */
  droppedEventsPerSecond?: number;
  /** Outstanding platform requests at most. Default 4096. */
  maxPendingRequests?: number;
  /**
   * Sessions (online devices) at most; a REGISTER of a new DeviceID beyond it is refused (503). Default 65,536, so
   * REGISTERs from invented IDs cannot grow memory without bound.
   */
  maxSessions?: number;
  /**
   * Sessions registered from one source address at most, so one address cannot fill `maxSessions` and lock every
   * other device out. Default 4096 (a NAT gateway with a large site behind it).
   */
  maxSessionsPerSource?: number;
  /**
   * REGISTERs accepted per source address: a token bucket of `perSecond` refilled up to `burst`. Beyond it a
   * REGISTER is dropped unanswered (counted in `stats.registersThrottled`); the device retries with its backoff.
   * Default 100 per second, burst 1000 (a NAT gateway with a thousand cameras behind it registers them at once).
   */
  registerRate?: { perSecond: number; burst: number };
  /**
   * How long the platform probes a session's current address when another address REGISTERs its DeviceID without
   * a password that proves it (a request to the old address, resent; see README "Session safety"). Default 3000 ms.
   */
  takeoverProbeMs?: number;
}

/** Counters of an {@link EhomeServer}. */
export interface EhomeServerStats {
  datagrams: number;
  /** Datagrams that were not a valid signal (counted and dropped). */
  badDatagrams: number;
  /**
   * Of `badDatagrams`, those refused by the byte pre-check before the XML parser (size outside 29..1500 bytes, not
   * starting with `<?` / `<!--` / `<PPVSPMessage`, not ending with `</PPVSPMessage>`): no parse, no Error built.
   */
  implausibleDatagrams: number;
  /** 'dropped' events of bad datagrams not published because `droppedEventsPerSecond` was used up. */
  droppedEventsSuppressed: number;
  registrations: number;
  keepalives: number;
  /** Signals from DeviceIDs with no session (answered with the re-register status). */
  unknownDevice: number;
  /** Signals whose DeviceID is registered from another address (answered with the re-register status). */
  addressMismatch: number;
  /** REGISTERs refused by access control. */
  refused: number;
  requestsSent: number;
  resends: number;
  timeouts: number;
  /** Responses that matched no outstanding request. */
  unmatchedResponses: number;
  alarms: number;
  /** Alarms not acknowledged because their record could not be committed (the device resends them). */
  alarmsNotStored: number;
  eventsDropped: number;
  /** REGISTERs for an online DeviceID from another address, held while its current address is probed. */
  registersHeld: number;
  /** REGISTERs dropped by the per-source rate. */
  registersThrottled: number;
  /** REGISTERs of new DeviceIDs refused because `maxSessions` devices are online. */
  sessionsRefused: number;
}
