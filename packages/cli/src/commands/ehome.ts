import { join, resolve } from 'node:path';
import {
  DEFAULT_ALARM_PORT,
  DEFAULT_API_PORT,
  DEFAULT_REGISTER_PORT,
  type DeviceSession,
  EhomeDevice,
  EhomeDeviceMedia,
  type EhomeEvent,
  EhomeHttpApi,
  EhomeServer,
  type EhomeStore,
  MemoryStore,
  openStore,
  type RetentionPolicy,
} from '@cam/ehome';
import { isIpv4 } from '@cam/net-utils';
import type { Command } from 'commander';
import { jsonReplacer, parseNumber, reportError, UsageError } from '../output.js';
import { registerEhomeClient } from './ehome-client.js';
import { registerEhomeMedia } from './ehome-media.js';

/** Default HTTP port of `cam ehome serve`'s picture server. */
const DEFAULT_PICTURE_PORT = 6011;

interface ServeOptions {
  address?: string;
  port?: string;
  alarmPort?: string;
  picturePort?: string;
  data?: string;
  advertise?: string;
  keepalive?: string;
  offlineAfter?: string;
  ntp?: string;
  allow?: string[];
  password?: string[];
  maxSessions?: string;
  perSource?: string;
  api?: boolean;
  apiAddress?: string;
  apiPort?: string;
  token?: string;
  store?: string;
  retentionDays?: string;
  retentionMedia?: string;
  retentionEvents?: string;
  apiUrl?: string;
  seconds?: string;
  json?: boolean;
}

/** A byte count: a number with an optional K, M, G or T suffix (powers of 1024). */
function parseBytes(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--${name} "${text}" is not a size (e.g. 500M, 20G)`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!.toUpperCase() as 'K'];
  return Math.floor(Number(m[1]) * unit);
}

/** The store `--store` names: `memory`, a PostgreSQL URL, or a directory for the embedded store. */
async function openServeStore(location: string): Promise<EhomeStore> {
  if (location === 'memory') return new MemoryStore();
  return openStore(/^postgres(ql)?:\/\//.test(location) ? location : resolve(location));
}

interface DeviceOptions {
  server: string;
  id: string;
  count?: string;
  password?: string;
  protocolVersion?: string;
  channels?: string;
  localAddress?: string;
  alarm?: boolean;
  gps?: string;
  seconds?: string;
  json?: boolean;
}

/** One JSON document per line (long-running commands stream their events this way). */
function jsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer)}\n`);
}

function portOf(text: string | undefined, fallback: number, what: string): number {
  const p = text === undefined ? fallback : parseNumber(text, what);
  if (p > 0xffff) throw new UsageError(`${what} ${p} is not in 0..65535`);
  return p;
}

function ipv4(text: string, what: string): string {
  if (!isIpv4(text)) throw new UsageError(`${what} "${text}" is not an IPv4 address`);
  return text;
}

function parseNtp(text: string): { ip: string; port: number } {
  const [ip = '', port] = text.split(':');
  return { ip: ipv4(ip, 'NTP server'), port: portOf(port, 123, 'NTP port') };
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Resolves after `seconds` (when given) or on SIGINT/SIGTERM. */
function runUntilStopped(seconds: number | undefined): Promise<void> {
  return new Promise((done) => {
    const finish = (): void => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      done();
    };
    const timer = seconds === undefined ? undefined : setTimeout(finish, seconds * 1000);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
}

function sessionLine(s: Readonly<DeviceSession>): string {
  return `${s.deviceId}  ${s.address}:${s.port}  EHome ${s.version} ${s.encoding}  fw ${s.firmwareVersion}  type ${s.devType}`;
}

function eventLine(e: EhomeEvent): string {
  switch (e.type) {
    case 'online':
      return `online   ${sessionLine(e.session)}${e.reRegistered ? '  (registered again)' : ''}`;
    case 'offline':
      return `offline  ${e.deviceId}  (${e.reason})`;
    case 'moved':
      return `moved    ${e.deviceId}  ${e.from.address}:${e.from.port} -> ${e.to.address}:${e.to.port}`;
    case 'refused':
      return `refused  ${e.deviceId}  from ${e.address}:${e.port}  ${e.status} ${e.reason}`;
    case 'alarm':
      return `alarm    ${e.deviceId}  ch${e.alarm.channel} ${e.alarm.alarmType} at ${e.alarm.alarmTime}  pictures ${e.pictures.map((p) => p.path).join(', ') || '-'}${e.video ? `  video ${e.video.path}` : ''}${e.complete ? '' : `  missing ${e.missing.join(', ')}`}`;
    case 'media':
      return `${e.media.kind.padEnd(8)} ${e.media.deviceId}  ${e.media.id}  ${e.media.size} bytes  ${e.media.path}  (${e.linkedTo})`;
    case 'gps':
      return `gps      ${e.deviceId}  ${e.latitude.toFixed(6)}, ${e.longitude.toFixed(6)}  at ${e.gps.time}`;
    case 'status':
      return `status   ${e.deviceId}  ${e.status.statusType}${e.status.description ? `  ${e.status.description}` : ''}`;
    case 'upgrade':
      return `upgrade  ${e.deviceId}  ${e.report.state} ${e.report.progress}%${e.report.reason ? `  ${e.report.reason}` : ''}`;
    case 'data':
      return `data     ${e.deviceId}  ${e.data.dataType ?? ''} ${e.data.data.length} base64 chars`;
    case 'dropped':
      return `dropped  ${e.server} datagram/request from ${e.address}:${e.port}: ${e.reason}`;
  }
}

/** `--per-source N`: N sessions from one address, REGISTERs at N/10 per second with a burst of N (at least 100/s). */
function perSourceLimits(n: number): {
  maxSessionsPerSource: number;
  registerRate: { perSecond: number; burst: number };
} {
  if (!(n >= 1)) throw new UsageError('--per-source must be at least 1');
  return { maxSessionsPerSource: n, registerRate: { perSecond: Math.max(100, n / 10), burst: Math.max(1000, n) } };
}

function registerServe(ehome: Command): void {
  ehome
    .command('serve')
    .description('run an EHome platform: register server (UDP), alarm server (UDP), picture server (HTTP)')
    .option('--address <ip>', 'address to bind', '0.0.0.0')
    .option('--port <n>', `register port (default ${DEFAULT_REGISTER_PORT}; 0 = any)`)
    .option('--alarm-port <n>', `alarm server port (default ${DEFAULT_ALARM_PORT})`)
    .option('--picture-port <n>', `picture server port (default ${DEFAULT_PICTURE_PORT})`)
    .option('--data <dir>', 'directory for uploaded pictures and videos', './ehome-data')
    .option('--advertise <ip>', 'address told to devices for the alarm and picture servers')
    .option('--keepalive <s>', 'heartbeat interval told to devices (default 15)')
    .option('--ntp <ip[:port]>', 'NTP server told to devices in the REGISTER answer')
    .option('--offline-after <n>', 'missed heartbeats before a device is offline (default 6)')
    .option('--allow <id>', 'only let this DeviceID register (repeatable)', collect)
    .option('--password <id=pw>', 'require this EHome 4.0 password of a device (repeatable)', collect)
    .option('--max-sessions <n>', 'devices online at most (default 65536)')
    .option(
      '--per-source <n>',
      'devices online from one address at most, and a REGISTER burst as large (default 4096; raise it to simulate many devices from one host)',
    )
    .option('--api-address <ip>', 'address of the HTTP API (default 127.0.0.1; elsewhere a token is required)')
    .option('--api-port <n>', `port of the HTTP API (default ${DEFAULT_API_PORT}; 0 = any)`)
    .option('--token <token>', 'bearer token the HTTP API requires (default: $CAM_EHOME_TOKEN)')
    .option('--no-api', 'run no HTTP API')
    .option('--store <dir|url>', 'event store: a directory (embedded), postgres://..., or memory (default DATA/.store)')
    .option('--retention-days <n>', 'delete events, commands and pictures older than this')
    .option('--retention-media <size>', "keep at most this much of this process's pictures/videos (e.g. 20G)")
    .option('--retention-events <n>', 'keep at most this many events')
    .option('--api-url <url>', 'URL other platform processes reach this API at (PostgreSQL)')
    .option('--seconds <s>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--json', 'print events as JSON lines')
    .action(async (opts: ServeOptions) => {
      const json = Boolean(opts.json);
      try {
        const address = ipv4(opts.address ?? '0.0.0.0', 'address');
        const passwords = new Map<string, string>();
        for (const p of opts.password ?? []) {
          const i = p.indexOf('=');
          if (i < 1) throw new UsageError(`--password "${p}" is not ID=PASSWORD`);
          passwords.set(p.slice(0, i), p.slice(i + 1));
        }
        const dataDirectory = resolve(opts.data ?? './ehome-data');
        const retention: RetentionPolicy = {};
        if (opts.retentionDays !== undefined) retention.days = parseNumber(opts.retentionDays, 'retention-days');
        if (opts.retentionMedia !== undefined)
          retention.maxMediaBytes = parseBytes(opts.retentionMedia, 'retention-media');
        if (opts.retentionEvents !== undefined) {
          retention.maxEvents = parseNumber(opts.retentionEvents, 'retention-events');
        }
        const store = await openServeStore(opts.store ?? join(dataDirectory, '.store'));
        const server = new EhomeServer({
          address,
          store,
          ...(Object.keys(retention).length > 0 ? { retention } : {}),
          port: portOf(opts.port, DEFAULT_REGISTER_PORT, 'port'),
          alarmPort: portOf(opts.alarmPort, DEFAULT_ALARM_PORT, 'alarm port'),
          picturePort: portOf(opts.picturePort, DEFAULT_PICTURE_PORT, 'picture port'),
          dataDirectory,
          ...(opts.advertise !== undefined ? { advertisedAddress: ipv4(opts.advertise, 'advertised address') } : {}),
          ...(opts.keepalive !== undefined ? { keepAliveSeconds: parseNumber(opts.keepalive, 'keepalive') } : {}),
          ...(opts.ntp !== undefined ? { ntp: parseNtp(opts.ntp) } : {}),
          ...(opts.offlineAfter !== undefined
            ? { offlineAfterMissed: parseNumber(opts.offlineAfter, 'offline-after') }
            : {}),
          ...(opts.allow?.length ? { allowlist: opts.allow } : {}),
          ...(passwords.size ? { passwords } : {}),
          ...(opts.maxSessions !== undefined ? { maxSessions: parseNumber(opts.maxSessions, 'max-sessions') } : {}),
          ...(opts.perSource !== undefined ? perSourceLimits(parseNumber(opts.perSource, 'per-source')) : {}),
          log: (level, message, fields) => {
            if (json) jsonLine({ type: 'log', level, message, ...fields });
            else process.stderr.write(`${level}: ${message} ${JSON.stringify(fields)}\n`);
          },
        });
        const ports = await server.listen().catch(async (e: unknown) => {
          await store.close();
          throw e;
        });
        let api: EhomeHttpApi | undefined;
        if (opts.api !== false) {
          const token = opts.token ?? process.env.CAM_EHOME_TOKEN;
          api = new EhomeHttpApi(server, {
            address: ipv4(opts.apiAddress ?? '127.0.0.1', 'API address'),
            port: portOf(opts.apiPort, DEFAULT_API_PORT, 'API port'),
            ...(token ? { token } : {}),
            ...(opts.apiUrl !== undefined ? { publicUrl: opts.apiUrl } : {}),
          });
          await api.listen().catch(async (e: unknown) => {
            await server.close();
            await store.close();
            throw e;
          });
        }
        if (json) {
          jsonLine({ type: 'listening', address, ...ports, api: api?.url, dataDirectory, store: store.kind });
        } else {
          process.stdout.write(
            `EHome platform on ${address}: register udp ${ports.port}, alarms udp ${ports.alarmPort}, pictures http ${ports.picturePort} -> ${dataDirectory}${api ? `, API ${api.url}` : ''}\n`,
          );
        }
        server.on('event', (e) => {
          if (json) jsonLine(e);
          else process.stdout.write(`${eventLine(e)}\n`);
        });
        await runUntilStopped(opts.seconds === undefined ? undefined : parseNumber(opts.seconds, 'seconds'));
        const devices = server.devices();
        await api?.close();
        await server.close();
        await store.close();
        if (json) jsonLine({ type: 'summary', devices, stats: server.stats });
        else {
          process.stdout.write(`${devices.length} device(s) online at exit\n`);
          for (const d of devices) process.stdout.write(`  ${sessionLine(d)}\n`);
        }
      } catch (e) {
        reportError(e, json);
      }
    });
}

function registerDevice(ehome: Command): void {
  ehome
    .command('device')
    .description('run one or many simulated EHome devices against a platform')
    .requiredOption('--server <ip:port>', 'register server of the platform')
    .requiredOption('--id <id>', 'DeviceID (with --count N: ID-1 .. ID-N)')
    .option('--count <n>', 'number of devices', '1')
    .option('--password <pw>', 'EHome 4.0 password')
    .option('--protocol-version <v>', 'EHome version: 2.0 (GB2312) or 4.0 (UTF-8)', '4.0')
    .option('--channels <n>', 'video channels per device', '1')
    .option('--local-address <ip>', 'address to send from', '0.0.0.0')
    .option('--alarm', 'raise one alarm with a picture once registered')
    .option('--gps <lat,lon>', 'send one GPS fix once registered')
    .option('--seconds <s>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--json', 'print events as JSON lines')
    .action(async (opts: DeviceOptions) => {
      const json = Boolean(opts.json);
      const out = (value: Record<string, unknown>, text: string): void => {
        if (json) jsonLine(value);
        else process.stdout.write(`${text}\n`);
      };
      const devices: EhomeDevice[] = [];
      try {
        const m = /^(.+):(\d+)$/.exec(opts.server);
        if (!m) throw new UsageError(`--server "${opts.server}" is not IP:PORT`);
        const host = ipv4(m[1]!, 'server address');
        const port = portOf(m[2], DEFAULT_REGISTER_PORT, 'server port');
        const count = parseNumber(opts.count ?? '1', 'count');
        if (count < 1 || count > 20_000) throw new UsageError('--count must be 1..20000');
        const channels = parseNumber(opts.channels ?? '1', 'channels');
        if (channels < 1 || channels > 64) throw new UsageError('--channels must be 1..64');
        const version = opts.protocolVersion ?? '4.0';
        if (!/^\d+\.\d+$/.test(version)) throw new UsageError(`--protocol-version "${version}" is not like 2.0 or 4.0`);
        let gps: { latitude: number; longitude: number } | undefined;
        if (opts.gps !== undefined) {
          const [lat, lon] = opts.gps.split(',').map(Number);
          if (!(Math.abs(lat ?? Number.NaN) <= 90 && Math.abs(lon ?? Number.NaN) <= 180)) {
            throw new UsageError(`--gps "${opts.gps}" is not LAT,LON in degrees`);
          }
          gps = { latitude: lat!, longitude: lon! };
        }
        const localAddress = ipv4(opts.localAddress ?? '0.0.0.0', 'local address');
        const seconds = opts.seconds === undefined ? undefined : parseNumber(opts.seconds, 'seconds');
        for (let i = 1; i <= count; i++) {
          const deviceId = count === 1 ? opts.id : `${opts.id}-${i}`;
          const dev = new EhomeDevice({
            server: { host, port },
            deviceId,
            version,
            channels,
            localAddress,
            // Serves preview, playback and download of its simulated recordings (generated H.264).
            mediaHandler: new EhomeDeviceMedia({ localAddress }).handler,
            ...(opts.password !== undefined ? { password: opts.password } : {}),
          });
          devices.push(dev);
          dev.on('registered', (r) =>
            out(
              { type: 'registered', deviceId, keepAliveSeconds: r.keepAliveSeconds, registration: r },
              `registered ${deviceId}  heartbeat ${r.keepAliveSeconds} s  alarms ${r.alarmServerIp ?? '-'}:${r.alarmServerPort ?? '-'}  pictures ${r.pictureServer ?? '-'}:${r.pictureServerPort ?? '-'}`,
            ),
          );
          dev.on('refused', (status, description) =>
            out({ type: 'refused', deviceId, status, description }, `refused ${deviceId}: ${status} ${description}`),
          );
          dev.on('reregistering', (reason) =>
            out({ type: 'reregistering', deviceId, reason }, `re-registering ${deviceId}: ${reason}`),
          );
          dev.on('command', (req) =>
            out(
              { type: 'command', deviceId, command: req.command, params: req.params },
              `command ${deviceId}  ${req.command}`,
            ),
          );
        }
        const stop = runUntilStopped(seconds);
        const all = Promise.all(
          devices.map(async (dev) => {
            await dev.start();
            // A platform that never answers ALARM or GPS (FreeEhome answers neither) costs a warning, not the
            // device: it stays registered and its KEEPALIVEs go on.
            const warn = (what: string, e: unknown): void => {
              const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
              if (json) jsonLine({ type: 'warning', deviceId: dev.deviceId, what, message });
              else process.stderr.write(`warning: ${dev.deviceId} ${what} not acknowledged (${message})\n`);
            };
            if (opts.alarm) {
              try {
                const a = await dev.raiseAlarm({ pictures: 1 });
                out(
                  { type: 'alarm', deviceId: dev.deviceId, ...a },
                  `alarm ${dev.deviceId}  pictures ${a.picIds.join(', ')}`,
                );
              } catch (e) {
                warn('alarm', e);
              }
            }
            if (gps) {
              try {
                await dev.sendGps(gps);
                out(
                  { type: 'gps', deviceId: dev.deviceId, ...gps },
                  `gps ${dev.deviceId}  ${gps.latitude}, ${gps.longitude}`,
                );
              } catch (e) {
                warn('gps', e);
              }
            }
          }),
        );
        let failure: unknown;
        all.catch((e: unknown) => {
          failure = e;
        });
        await Promise.race([stop, all.catch(() => {})]);
        if (failure === undefined) await stop;
        const registered = devices.filter((d) => d.registered).length;
        out({ type: 'summary', devices: count, registered }, `${registered}/${count} device(s) registered`);
        if (failure !== undefined) throw failure;
        if (registered < count) process.exitCode = 1;
      } catch (e) {
        reportError(e, json);
      } finally {
        // Leave politely: registered devices log out (bounded), so the platform sees them go at once.
        await Promise.all(
          devices.map((d) => (d.registered ? d.logout({ timeoutMs: 1500 }).catch(() => {}) : undefined)),
        );
        await Promise.all(devices.map((d) => d.close()));
      }
    });
}

/** `cam ehome ...`: Hikvision EHome platform and simulated devices. */
export function registerEhome(program: Command): void {
  const ehome = program
    .command('ehome')
    .description('Hikvision EHome: run a platform, simulate devices, preview, playback, download');
  registerServe(ehome);
  registerDevice(ehome);
  registerEhomeMedia(ehome);
  registerEhomeClient(ehome);
}
