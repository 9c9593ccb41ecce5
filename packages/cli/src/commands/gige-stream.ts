import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeMap } from '@cam/genicam';
import { fetchGenicamXml, GvcpClient, GvcpPort } from '@cam/gvcp';
import { type GvspFrame, type GvspReceiverStats, type GvspStream, openStream } from '@cam/gvsp';
import { isIpv4 } from '@cam/net-utils';
import type { Command } from 'commander';
import { fetchOptionsFrom, type GenicamFetchCliOptions, genicamFetchOptions } from '../device-trust.js';
import { applyWrites, parseAssignments, planWrites, type WriteResult } from '../features.js';
import { canDisplay, type DisplayImage, toDisplayImage } from '../image/convert.js';
import { encodeNetpbm, encodePng, netpbmExtension, Y4mWriter } from '../image/encode.js';
import { interruptSignal } from '../interrupt.js';
import { type MediaOutput, openMediaOutput, textStream } from '../media-output.js';
import { action, jsonReplacer, parseNumber, printJson, UsageError } from '../output.js';
import { startProgress } from '../progress.js';

interface StreamOptions extends GenicamFetchCliOptions {
  json?: boolean;
  port?: string;
  packetSize?: string;
  hostAddress?: string;
  resend?: boolean;
  timeout?: string;
  worker?: boolean;
  set?: string[];
  trigger?: string;
  output?: string;
  format?: string;
}

interface GrabOptions extends StreamOptions {
  frames?: string;
  out?: string;
  prefix?: string;
}

interface LiveOptions extends StreamOptions {
  seconds?: string;
}

/** `--trigger software[:rate]`: software trigger, optionally at a fixed rate in Hz. */
interface TriggerSpec {
  rate: number | undefined;
}

function parseTrigger(text: string | undefined): TriggerSpec | undefined {
  if (text === undefined) return undefined;
  const m = /^software(?::([0-9]+(?:\.[0-9]+)?))?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--trigger "${text}" is not software or software:RATE (Hz)`);
  const rate = m[1] === undefined ? undefined : Number(m[1]);
  if (rate !== undefined && !(rate > 0 && rate <= 1000)) throw new UsageError('--trigger rate must be in (0, 1000] Hz');
  return { rate };
}

/** A running acquisition: the stream, the node map it was set up with, and how to stop and release everything. */
interface Acquisition {
  stream: GvspStream;
  map: NodeMap;
  settings: WriteResult[];
  /** Fires TriggerSoftware (software trigger mode only). */
  trigger: (() => Promise<void>) | undefined;
  frameRate: number | undefined;
  /** Stops acquisition, clears the stream channel, restores the trigger mode, releases control (CCP), closes. */
  done: () => Promise<void>;
}

/**
 * Opens a stream from a camera: control, GenICam node map, `--set` writes (all validated before the first),
 * software trigger set-up, stream channel, acquisition.
 */
async function startAcquisition(address: string, opts: StreamOptions): Promise<Acquisition> {
  if (!isIpv4(address)) throw new UsageError(`address "${address}" is not an IPv4 address`);
  const gvcpPort = opts.port === undefined ? 3956 : parseNumber(opts.port, 'port');
  const assignments = parseAssignments(opts.set ?? [], '--set');
  const trigger = parseTrigger(opts.trigger);
  const client = await GvcpClient.connect(address, { port: gvcpPort });
  let restoreTrigger: (() => Promise<void>) | undefined;
  try {
    await client.takeControl();
    const map = await NodeMap.load((await fetchGenicamXml(client, fetchOptionsFrom(opts))).xml, new GvcpPort(client));
    const settings = await applyWrites(map, await planWrites(map, assignments));
    if (trigger) {
      for (const name of ['TriggerMode', 'TriggerSoftware'])
        if (!map.has(name))
          throw new UsageError(`the camera has no ${name} feature: it cannot be triggered by software`);
      const wanted = [
        ...(map.has('TriggerSelector') ? [{ feature: 'TriggerSelector', text: 'FrameStart' }] : []),
        { feature: 'TriggerMode', text: 'On' },
        ...(map.has('TriggerSource') ? [{ feature: 'TriggerSource', text: 'Software' }] : []),
      ];
      const before = String(await map.get('TriggerMode'));
      await applyWrites(map, await planWrites(map, wanted));
      restoreTrigger = () => map.set('TriggerMode', before);
    }
    let frameRate: number | undefined;
    if (map.has('AcquisitionFrameRate')) {
      const v = await map.get('AcquisitionFrameRate').catch(() => undefined);
      if (typeof v === 'number' && v > 0) frameRate = v;
    }
    const stream = await openStream(client, {
      nodeMap: map,
      gvcpPort,
      ...(opts.packetSize ? { packetSize: parseNumber(opts.packetSize, 'packet size') } : {}),
      ...(opts.hostAddress ? { hostAddress: opts.hostAddress } : {}),
      resend: opts.resend !== false,
      worker: opts.worker === true,
    });
    const done = async (): Promise<void> => {
      try {
        await stream.close();
        await restoreTrigger?.().catch(() => {});
      } finally {
        await client.releaseControl().catch(() => {});
        await client.close();
      }
    };
    return {
      stream,
      map,
      settings,
      trigger: trigger ? () => map.execute('TriggerSoftware') : undefined,
      frameRate: trigger?.rate ?? frameRate,
      done,
    };
  } catch (e) {
    await restoreTrigger?.().catch(() => {});
    await client.releaseControl().catch(() => {});
    await client.close();
    throw e;
  }
}

/** Fires TriggerSoftware at `rate` Hz until stopped (bounded by the signal). */
function triggerLoop(fire: () => Promise<void>, rate: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      fire().catch(() => {}); // a lost trigger shows as a missing frame in the statistics
    }, 1000 / rate);
    const stop = (): void => {
      clearInterval(timer);
      resolve();
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

// ------------------------------------------------------------------ frames to files and streams

/** The frame as the conversion module sees it. */
function rawImage(f: GvspFrame) {
  return { width: f.width, height: f.height, pixelFormat: f.pixelFormatName, data: f.image, paddingX: f.paddingX };
}

/** What the JSON sidecar of a raw frame records. */
function sidecar(f: GvspFrame): Record<string, unknown> {
  return {
    blockId: f.blockId.toString(),
    width: f.width,
    height: f.height,
    pixelFormat: f.pixelFormatName,
    pixelFormatCode: `0x${f.pixelFormat.toString(16).padStart(8, '0')}`,
    paddingX: f.paddingX,
    timestamp: f.timestamp.toString(),
    status: f.status,
    bytes: f.data.byteLength,
  };
}

/** Writes one frame to DIR as `<prefix>-<blockId>.<png|pgm|ppm>`, or `.raw` with a `.json` sidecar. */
async function writeFrameFile(dir: string, prefix: string, f: GvspFrame, format: string): Promise<string> {
  const base = join(dir, `${prefix}-${String(f.blockId).padStart(6, '0')}`);
  if (format !== 'raw' && f.status === 'complete' && canDisplay(f.pixelFormatName)) {
    const img = toDisplayImage(rawImage(f));
    const file = format === 'png' ? `${base}.png` : `${base}.${netpbmExtension(img)}`;
    await writeFile(file, format === 'png' ? encodePng(img) : encodeNetpbm(img));
    return file;
  }
  await writeFile(`${base}.raw`, f.data);
  await writeFile(`${base}.json`, `${JSON.stringify(sidecar(f), null, 2)}\n`);
  return `${base}.raw`;
}

/** A frame sink for `-o FILE|-`: YUV4MPEG2 (mono, 16-bit mono, RGB from any displayable format) or raw bytes. */
class FrameStream {
  private readonly y4m: Y4mWriter | undefined;
  constructor(
    readonly media: MediaOutput,
    readonly format: 'y4m' | 'raw',
    fps: number,
  ) {
    this.y4m = format === 'y4m' ? new Y4mWriter(fps) : undefined;
  }
  /** False once the reader is gone. */
  async write(f: GvspFrame): Promise<boolean> {
    if (!this.y4m) return this.media.write(f.data);
    if (f.status !== 'complete') return true; // a broken frame has no place in a video stream
    const img: DisplayImage = toDisplayImage(rawImage(f));
    for (const part of this.y4m.frame(img)) if (!(await this.media.write(part))) return false;
    return true;
  }
}

function statsLines(s: GvspReceiverStats): string {
  return [
    `frames: ${s.completedFrames} complete, ${s.failures} failed (${s.timeouts} timeouts, ${s.missingPacketFrames} missing packets), ${s.droppedFrames} dropped, ${s.underruns} underruns`,
    `packets: ${s.receivedPackets} received, ${s.missingPackets} missing, ${s.resentPackets} resent, ${s.duplicatedPackets} duplicated, ${s.ignoredPackets} ignored, ${s.errorPackets} with error status`,
    `resends: ${s.resendRequests} requests for ${s.resendRequestedPackets} packets (ratio reached ${s.resendRatioReached}, stopped by device ${s.resendDisabled})`,
    `rate: ${s.frameRate.toFixed(1)} fps, ${(s.bytesPerSecond / 1e6).toFixed(2)} MB/s, ${(s.transferredBytes / 1e6).toFixed(2)} MB total`,
    `receive buffer: ${s.receiveBuffer.granted} of ${s.receiveBuffer.requested} bytes${s.receiveBuffer.advice ? ` (${s.receiveBuffer.advice})` : ''}`,
  ].join('\n');
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function common(cmd: Command): Command {
  return genicamFetchOptions(cmd)
    .option('--port <n>', 'camera GVCP port (default: 3956)')
    .option(
      '--set <Name=value>',
      'set a feature before acquisition (repeatable; all checked before the first write)',
      collect,
    )
    .option(
      '--trigger <software[:rate]>',
      'software trigger: TriggerSoftware once per frame (grab), or at RATE Hz (stream: default 10)',
    )
    .option('--packet-size <bytes>', 'largest stream packet size to negotiate (default: 1500)')
    .option('--host-address <ip>', 'address the camera streams to (default: our interface on its subnet)')
    .option('--no-resend', 'do not ask for missing packets')
    .option('--worker', 'receive in a worker thread')
    .option('--timeout <ms>', 'give up on a frame after this long (default: 5000)')
    .option('--json', 'print one JSON document (on stderr when -o - takes stdout)');
}

function streamFormat(opts: StreamOptions, fallback: 'y4m' | 'raw'): 'y4m' | 'raw' {
  const f = opts.format ?? fallback;
  if (f !== 'y4m' && f !== 'raw') throw new UsageError(`--format "${f}" with -o is y4m or raw`);
  return f;
}

/** `cam gige grab` and `cam gige stream`: GVSP acquisition from a camera. */
export function registerGigeStream(gige: Command): void {
  common(
    gige
      .command('grab')
      .description(
        'grab frames from a camera and write them as images (PNG; Mono10/12 scaled, Bayer demosaiced, YUV as RGB) or raw with a JSON sidecar',
      )
      .argument('<ip>', 'camera address')
      .option('--frames <n>', 'frames to grab (default: 1)')
      .option('--out <dir>', 'output directory (default: .)')
      .option('--prefix <name>', 'file name prefix; files are PREFIX-<block id>.png (default: frame)')
      .option('--format <fmt>', 'png | pgm (PGM/PPM) | raw, or with -o: y4m | raw (default: png, y4m with -o)')
      .option('-o, --output <file>', 'write all frames into one stream file instead, - for stdout (y4m or raw)'),
  ).action(
    action(async (address: string, opts: GrabOptions) => {
      const json = Boolean(opts.json);
      const frames = opts.frames === undefined ? 1 : parseNumber(opts.frames, 'frames');
      if (frames < 1 || frames > 1_000_000) throw new UsageError('--frames must be in 1..1000000');
      const toStream = opts.output !== undefined;
      const format = toStream ? streamFormat(opts, 'y4m') : (opts.format ?? 'png');
      if (!toStream && !['png', 'pgm', 'raw'].includes(format))
        throw new UsageError(`format "${format}" is not png, pgm or raw`);
      const timeoutMs = opts.timeout === undefined ? 5000 : parseNumber(opts.timeout, 'timeout');
      const dir = opts.out ?? '.';
      const prefix = opts.prefix ?? 'frame';
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(prefix)) throw new UsageError('--prefix must be 1..64 of A-Z a-z 0-9 . _ -');
      if (!toStream) await mkdir(dir, { recursive: true });
      const media = toStream ? openMediaOutput(opts.output as string) : undefined;
      const text = textStream(media);
      using interrupt = interruptSignal();
      const acq = await startAcquisition(address, opts);
      const sink = media ? new FrameStream(media, format as 'y4m' | 'raw', acq.frameRate ?? 30) : undefined;
      const progress = startProgress({ label: 'grab', total: frames, unit: 'frames', json });
      const written: Record<string, unknown>[] = [];
      const stopTriggers = new AbortController();
      const triggers =
        acq.trigger && parseTrigger(opts.trigger)?.rate !== undefined
          ? triggerLoop(acq.trigger, parseTrigger(opts.trigger)?.rate as number, stopTriggers.signal)
          : undefined;
      let stoppedEarly = false;
      try {
        for (let i = 0; i < frames; i++) {
          if (acq.trigger && triggers === undefined) await acq.trigger(); // one trigger per frame
          let f: GvspFrame | undefined;
          try {
            f = await acq.stream.nextFrame({ timeoutMs, signal: interrupt.signal });
          } catch (e) {
            if (interrupt.signal.aborted) {
              stoppedEarly = true;
              break;
            }
            throw e;
          }
          if (!f) break;
          try {
            const entry: Record<string, unknown> = {
              blockId: f.blockId,
              status: f.status,
              width: f.width,
              height: f.height,
              pixelFormat: f.pixelFormatName,
              timestamp: f.timestamp,
            };
            if (sink) {
              if (!(await sink.write(f))) {
                stoppedEarly = true;
                break;
              }
            } else entry.file = await writeFrameFile(dir, prefix, f, format);
            written.push(entry);
          } finally {
            f.release();
          }
          progress.update(i + 1);
        }
      } finally {
        progress.stop();
        stopTriggers.abort();
        await triggers;
        const stats = acq.stream.stats();
        await acq.done();
        await media?.close();
        const summary = { ok: true, packetSize: acq.stream.packetSize, settings: acq.settings, frames: written, stats };
        if (json) {
          if (media?.toStdout) process.stderr.write(`${JSON.stringify(summary, jsonReplacer)}\n`);
          else printJson(summary);
        } else {
          for (const w of written)
            text.write(
              `${w.file ?? opts.output}  block ${w.blockId}  ${w.width}x${w.height} ${w.pixelFormat}  ${w.status}\n`,
            );
          text.write(`${stoppedEarly ? 'stopped early\n' : ''}${statsLines(stats)}\n`);
        }
      }
    }),
  );

  common(
    gige
      .command('stream')
      .description('stream from a camera and show frame rate, bandwidth and losses live; -o - pipes the video out')
      .argument('<ip>', 'camera address')
      .option('--seconds <s>', 'how long (default: 5; 0 = until Ctrl-C)')
      .option('-o, --output <file>', 'also write the frames to FILE, - for stdout (y4m or raw; try | ffplay -)')
      .option('--format <fmt>', 'y4m | raw for -o (default: y4m)'),
  ).action(
    action(async (address: string, opts: LiveOptions) => {
      const json = Boolean(opts.json);
      const seconds = opts.seconds === undefined ? 5 : parseNumber(opts.seconds, 'seconds');
      const format = streamFormat(opts, 'y4m');
      const media = opts.output === undefined ? undefined : openMediaOutput(opts.output);
      const text = textStream(media);
      using interrupt = interruptSignal();
      const acq = await startAcquisition(address, opts);
      const sink = media ? new FrameStream(media, format, acq.frameRate ?? 30) : undefined;
      const controller = new AbortController();
      const stop = seconds === 0 ? undefined : setTimeout(() => controller.abort(), seconds * 1000);
      const onInterrupt = (): void => controller.abort();
      interrupt.signal.addEventListener('abort', onInterrupt, { once: true });
      const rate = parseTrigger(opts.trigger)?.rate ?? 10;
      const triggers = acq.trigger ? triggerLoop(acq.trigger, rate, controller.signal) : undefined;
      let last = performance.now();
      try {
        for await (const f of acq.stream.frames({ signal: controller.signal })) {
          try {
            if (sink && !(await sink.write(f))) controller.abort(); // the player quit
          } finally {
            f.release();
          }
          if (!json && performance.now() - last >= 1000) {
            last = performance.now();
            const s = acq.stream.stats();
            process.stderr.write(
              `${s.frameRate.toFixed(1)} fps  ${(s.bytesPerSecond / 1e6).toFixed(2)} MB/s  complete ${s.completedFrames}  failed ${s.failures}  missing packets ${s.missingPackets}  resent ${s.resentPackets}\n`,
            );
          }
        }
      } catch (e) {
        if (!controller.signal.aborted) throw e;
      } finally {
        clearTimeout(stop);
        interrupt.signal.removeEventListener('abort', onInterrupt);
        controller.abort();
        await triggers;
        const stats = acq.stream.stats();
        await acq.done();
        await media?.close();
        const summary = {
          ok: true,
          seconds,
          packetSize: acq.stream.packetSize,
          settings: acq.settings,
          ...(media ? { output: media.target, bytesWritten: media.bytes } : {}),
          stats,
        };
        if (json) {
          if (media?.toStdout) process.stderr.write(`${JSON.stringify(summary, jsonReplacer)}\n`);
          else printJson(summary);
        } else text.write(`${statsLines(stats)}\n`);
      }
    }),
  );
}
