import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { DEFAULT_REGISTER_PORT, type EhomeEvent, EhomeServer, type EhomeStreamSession } from '@cam/ehome';
import { isIpv4, PortPool } from '@cam/net-utils';
import type { Command } from 'commander';
import { interruptSignal } from '../interrupt.js';
import { parseNumber, printJson, reportError, UsageError } from '../output.js';
import { type Progress, startProgress } from '../progress.js';
import { downloadFromPlatform, type PlatformClientOptions, streamFromPlatform } from './ehome-client.js';

interface MediaCommandOptions extends PlatformClientOptions {
  embedded?: boolean;
  server?: string;
  id: string;
  channel?: string;
  mediaPorts?: string;
  wait?: string;
  json?: boolean;
}

function hostPort(text: string | undefined): { host: string; port: number } {
  const [host = '0.0.0.0', port] = (text ?? '0.0.0.0').split(':');
  if (!isIpv4(host)) throw new UsageError(`--server "${text}" needs IP[:PORT]`);
  const p = port === undefined ? DEFAULT_REGISTER_PORT : parseNumber(port, 'port');
  if (p > 0xffff) throw new UsageError(`port ${p} is not in 0..65535`);
  return { host, port: p };
}

function portRange(text: string | undefined): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(text ?? '20000-20999');
  if (!m) throw new UsageError(`--media-ports "${text}" needs MIN-MAX`);
  const min = Number(m[1]);
  const max = Number(m[2]);
  if (!(min >= 1 && max <= 65535 && min <= max)) throw new UsageError(`--media-ports ${text} is not a port range`);
  return { min, max };
}

/** Starts a platform on --server and waits (bounded) for the device to register. */
async function platformWithDevice(
  opts: MediaCommandOptions,
  progress: (line: string) => void,
): Promise<{ server: EhomeServer; close: () => Promise<void> }> {
  const { host, port } = hostPort(opts.server);
  const server = new EhomeServer({
    address: host,
    port,
    alarmPort: false,
    picturePort: false,
    mediaPorts: new PortPool({ ...portRange(opts.mediaPorts), host }),
  });
  const a = await server.listen();
  progress(`platform listening on ${host}:${a.port}; waiting for ${opts.id} to register`);
  const waitMs = (opts.wait === undefined ? 60 : parseNumber(opts.wait, '--wait')) * 1000;
  if (!server.registry.get(opts.id)) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        server.off('event', on);
        reject(new Error(`device ${opts.id} did not register within ${waitMs / 1000} s`));
      }, waitMs);
      const on = (e: EhomeEvent): void => {
        if (e.type === 'online' && e.deviceId === opts.id) {
          clearTimeout(timer);
          server.off('event', on);
          resolve();
        }
      };
      server.on('event', on);
    }).catch(async (e: unknown) => {
      await server.close();
      throw e;
    });
  }
  const s = server.registry.get(opts.id)!;
  progress(`${opts.id} online from ${s.address}:${s.port}`);
  return { server, close: () => server.close() };
}

/**
 * The common shape of the three commands: progress on stderr unless --json, a platform that waits for the device,
 * errors reported, the platform always closed.
 */
async function withPlatform(
  opts: MediaCommandOptions,
  validate: () => void,
  body: (server: EhomeServer, progress: (line: string) => void, json: boolean) => Promise<void>,
): Promise<void> {
  const json = opts.json === true;
  const progress = (l: string): void => {
    if (!json) process.stderr.write(`${l}\n`);
  };
  let close: (() => Promise<void>) | undefined;
  try {
    validate();
    const p = await platformWithDevice(opts, progress);
    close = p.close;
    await body(p.server, progress, json);
  } catch (e) {
    reportError(e, json);
  } finally {
    await close?.();
  }
}

/** A media command against a running platform (the default): errors reported, non-zero exit on any failure. */
async function viaPlatform(opts: MediaCommandOptions, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    reportError(e, opts.json === true);
  }
}

/** Prints what a preview or playback recorded. */
function reportRecording(json: boolean, doc: Record<string, unknown>, r: Awaited<ReturnType<typeof record>>): void {
  if (json) printJson({ ok: true, ...doc, ...r });
  else if (r.file === '-') return;
  else
    process.stdout.write(
      `${r.frames} frames (${r.keyframes} key frames), ${r.bytes} bytes${r.file ? ` -> ${r.file}` : ''}\n`,
    );
}

/** Writes the access units of a stream to an Annex B file for `seconds`; returns counts. */
async function record(
  stream: EhomeStreamSession,
  file: string | undefined,
  seconds: number,
  progress: (l: string) => void,
) {
  // Written to FILE.part and renamed once frames arrived: a failed or empty recording leaves no file.
  const toStdout = file === '-';
  const part = file && !toStdout ? `${file}.part` : undefined;
  const out = toStdout ? process.stdout : part ? createWriteStream(part) : undefined;
  const started = Date.now();
  let frames = 0;
  let keyframes = 0;
  let bytes = 0;
  const timer = setTimeout(() => void stream.stop(), seconds * 1000);
  // Ctrl-C ends the recording like its time running out: BYESTREAM to the device, the summary, then exit 130
  using interrupt = interruptSignal();
  interrupt.signal.addEventListener('abort', () => void stream.stop(), { once: true });
  let lastReport = started;
  try {
    for await (const au of stream) {
      frames++;
      if (au.keyframe) keyframes++;
      bytes += au.data.length;
      if (out && !out.write(au.data)) await new Promise<void>((r) => out.once('drain', () => r()));
      if (Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        progress(
          `${frames} frames, ${(bytes / 1e6).toFixed(2)} MB, ${(frames / ((lastReport - started) / 1000)).toFixed(1)} fps`,
        );
      }
    }
  } catch (e) {
    if (part) await rm(part, { force: true }).catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
    await stream.stop();
    if (out && !toStdout) await new Promise<void>((r) => out.end(() => r()));
  }
  if (frames === 0) {
    if (part) await rm(part, { force: true });
    throw new UsageError('the device sent no video frames');
  }
  if (part && file) await rename(part, file);
  return { frames, keyframes, bytes, seconds: (Date.now() - started) / 1000, codec: 'h264', file, rtp: stream.stats };
}

function common(cmd: Command): Command {
  return cmd
    .option('--platform <url>', 'platform HTTP API (default $CAM_EHOME_PLATFORM or http://127.0.0.1:7680)')
    .option('--token <token>', 'bearer token of the API (default $CAM_EHOME_TOKEN)')
    .option('--embedded', 'run a platform in this process instead (it waits for the device on --server)')
    .option('--server <ip:port>', 'with --embedded: where the platform listens for the device', '0.0.0.0:7660')
    .requiredOption('--id <deviceId>', 'DeviceID of the device')
    .option('--channel <n>', 'video channel', '1')
    .option('--media-ports <min-max>', 'TCP port range for media streams', '20000-20999')
    .option('--wait <seconds>', 'how long to wait for the device to register', '60')
    .option('--json', 'print one JSON document');
}

/** `cam ehome preview|playback|download`: a platform that waits for a device, then pulls its media. */
export function registerEhomeMedia(ehome: Command): void {
  common(ehome.command('preview'))
    .description('live preview of a device: wait for it to register, INVITESTREAM, write the H.264 to a file')
    .option('--stream <main|sub|third>', 'which stream', 'main')
    .option('--seconds <s>', 'how long to record', '10')
    .option('-o, --out <file>', 'write the elementary stream (.h264)')
    .action((opts: MediaCommandOptions & { stream: string; seconds: string; out?: string }) =>
      opts.embedded !== true
        ? viaPlatform(opts, async () => {
            if (!['main', 'sub', 'third'].includes(opts.stream)) throw new UsageError('--stream is main, sub or third');
            const q = new URLSearchParams({
              seconds: String(parseNumber(opts.seconds, '--seconds')),
              channel: opts.channel ?? '1',
              stream: opts.stream,
            });
            await streamFromPlatform(opts, `/api/devices/${encodeURIComponent(opts.id)}/preview?${q}`, 'preview');
          })
        : withPlatform(
            opts,
            () => {
              if (!['main', 'sub', 'third'].includes(opts.stream))
                throw new UsageError('--stream is main, sub or third');
            },
            async (server, progress, json) => {
              const stream = await server
                .device(opts.id)
                .preview({ channel: parseNumber(opts.channel ?? '1', '--channel'), stream: opts.stream as 'main' });
              progress(`preview session ${stream.session} on port ${stream.port}`);
              const r = await record(stream, opts.out, parseNumber(opts.seconds, '--seconds'), progress);
              reportRecording(json, { deviceId: opts.id, session: stream.session }, r);
            },
          ),
    );

  type PlaybackCliOptions = MediaCommandOptions & {
    start: string;
    end: string;
    speed: string;
    reverse?: boolean;
    seconds: string;
    out?: string;
  };
  common(ehome.command('playback'))
    .description('play back a time range: query the recordings, PLAYBACK, write the H.264 to a file')
    .requiredOption('--start <time>', 'start, "YYYY-MM-DD HH:MM:SS"')
    .requiredOption('--end <time>', 'end, "YYYY-MM-DD HH:MM:SS"')
    .option('--speed <x>', 'speed factor (1/16 .. 16)', '1')
    .option('--reverse', 'play backwards')
    .option('--seconds <s>', 'how long to record', '10')
    .option('-o, --out <file>', 'write the elementary stream (.h264)')
    .action((opts: PlaybackCliOptions) => {
      const speed = Number(opts.speed);
      if (opts.embedded !== true) {
        return viaPlatform(opts, async () => {
          if (speed !== 1 || opts.reverse) throw new UsageError('--speed and --reverse need --embedded');
          const q = new URLSearchParams({
            from: opts.start,
            to: opts.end,
            seconds: String(parseNumber(opts.seconds, '--seconds')),
            channel: opts.channel ?? '1',
          });
          await streamFromPlatform(opts, `/api/devices/${encodeURIComponent(opts.id)}/playback?${q}`, 'playback');
        });
      }
      return withPlatform(
        opts,
        () => {
          if (!(speed >= 1 / 16 && speed <= 16)) throw new UsageError('--speed is a factor from 1/16 to 16');
        },
        async (server, progress, json) => {
          const stream = await server.device(opts.id).playback({
            channel: parseNumber(opts.channel ?? '1', '--channel'),
            start: opts.start,
            end: opts.end,
            speed,
            reverse: opts.reverse === true,
          });
          const first = stream.recordings[0]?.name;
          progress(`${stream.recordings.length} recording(s) in range; playing ${first} (session ${stream.session})`);
          const r = await record(stream, opts.out, parseNumber(opts.seconds, '--seconds'), progress);
          reportRecording(json, { deviceId: opts.id, session: stream.session, recordings: stream.recordings }, r);
        },
      );
    });

  common(ehome.command('download'))
    .description('download a recording (MPEG-PS) with progress')
    .option('--file <name>', 'recording name (default: the first one between --start and --end)')
    .option('--start <time>', 'range start for choosing the recording', '1970-01-01 00:00:00')
    .option('--end <time>', 'range end for choosing the recording', '2100-01-01 00:00:00')
    .requiredOption('-o, --out <file>', 'where to write it')
    .action((opts: MediaCommandOptions & { file?: string; start: string; end: string; out: string }) =>
      opts.embedded !== true
        ? viaPlatform(opts, async () => {
            const q = new URLSearchParams({ channel: opts.channel ?? '1' });
            if (opts.file) q.set('file', opts.file);
            else {
              q.set('from', opts.start);
              q.set('to', opts.end);
            }
            await downloadFromPlatform(opts, `/api/devices/${encodeURIComponent(opts.id)}/download?${q}`);
          })
        : withPlatform(
            opts,
            () => undefined,
            async (server, _progress, json) => {
              const handle = server.device(opts.id);
              const channel = parseNumber(opts.channel ?? '1', '--channel');
              let name = opts.file;
              if (!name) {
                const files = await handle.queryRecords({ channel, start: opts.start, stop: opts.end, maxFiles: 1 });
                if (!files[0])
                  throw new Error(`no recording on channel ${channel} between ${opts.start} and ${opts.end}`);
                name = files[0].name;
              }
              let bar: Progress | undefined;
              const label = `download ${name}`;
              let r: Awaited<ReturnType<typeof handle.download>>;
              try {
                r = await handle.download(name, opts.out, {
                  channel,
                  onProgress: ({ bytes, total }) => {
                    bar ??= startProgress({ label, ...(total ? { total } : {}), unit: 'bytes', json });
                    bar.update(bytes);
                  },
                });
              } finally {
                bar?.stop();
              }
              if (json) printJson({ ok: true, deviceId: opts.id, file: name, ...r });
              else process.stdout.write(`${name}: ${r.bytes} bytes -> ${r.path}\n`);
            },
          ),
    );
}
