import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { NodeMap } from '@cam/genicam';
import { fetchGenicamXml, GvcpClient, GvcpPort } from '@cam/gvcp';
import { type GvspFrame, type GvspReceiverStats, type GvspStream, openStream, pixelFormatInfo } from '@cam/gvsp';
import { copyBytes, isIpv4 } from '@cam/net-utils';
import type { Command } from 'commander';
import { fetchOptionsFrom, type GenicamFetchCliOptions, genicamFetchOptions } from '../device-trust.js';
import { parseNumber, printJson, reportError, UsageError } from '../output.js';

interface StreamOptions extends GenicamFetchCliOptions {
  json?: boolean;
  port?: string;
  packetSize?: string;
  hostAddress?: string;
  resend?: boolean;
  timeout?: string;
  worker?: boolean;
}

interface GrabOptions extends StreamOptions {
  frames?: string;
  out?: string;
  format?: string;
}

interface LiveOptions extends StreamOptions {
  seconds?: string;
}

/** Opens a stream from a camera: control, GenICam node map, stream channel, acquisition. */
async function startStream(
  address: string,
  opts: StreamOptions,
): Promise<{ stream: GvspStream; done: () => Promise<void> }> {
  if (!isIpv4(address)) throw new UsageError(`address "${address}" is not an IPv4 address`);
  const gvcpPort = opts.port === undefined ? 3956 : parseNumber(opts.port, 'port');
  const client = await GvcpClient.connect(address, { port: gvcpPort });
  try {
    await client.takeControl();
    const map = await NodeMap.load((await fetchGenicamXml(client, fetchOptionsFrom(opts))).xml, new GvcpPort(client));
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
      } finally {
        await client.releaseControl().catch(() => {});
        await client.close();
      }
    };
    return { stream, done };
  } catch (e) {
    await client.close();
    throw e;
  }
}

// ------------------------------------------------------------------ image writers

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32([head.subarray(4), data]), 0);
  return Buffer.concat([head, data, crc]);
}

/** PNG of 8-bit gray, 16-bit gray (from little-endian words) or 8-bit RGB pixels. */
export function encodePng(
  width: number,
  height: number,
  kind: 'gray8' | 'gray16' | 'rgb8',
  pixels: Uint8Array,
): Buffer {
  const bpp = kind === 'gray8' ? 1 : kind === 'gray16' ? 2 : 3;
  const stride = width * bpp;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, y * stride + stride);
    const o = y * (stride + 1) + 1; // filter type 0
    if (kind === 'gray16') {
      // PNG samples are big-endian; GigE Vision 16-bit pixels are little-endian words
      for (let i = 0; i + 1 < row.length; i += 2) {
        raw[o + i] = row[i + 1]!;
        raw[o + i + 1] = row[i]!;
      }
    } else raw.set(row, o);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = kind === 'gray16' ? 16 : 8;
  ihdr[9] = kind === 'rgb8' ? 2 : 0;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** Which PNG/PGM layout fits a frame, with the pixels rearranged when needed (BGR -> RGB). */
function imageOf(f: GvspFrame): { kind: 'gray8' | 'gray16' | 'rgb8'; pixels: Uint8Array } | undefined {
  const info = pixelFormatInfo(f.pixelFormat);
  if (!info || f.width === 0 || f.height === 0 || f.paddingX !== 0) return undefined;
  const n = f.width * f.height;
  if ((info.family === 'mono' || info.family === 'bayer') && info.bitsPerPixel === 8 && f.image.length >= n) {
    return { kind: 'gray8', pixels: f.image };
  }
  if ((info.family === 'mono' || info.family === 'bayer') && info.wordPixels && f.image.length >= 2 * n) {
    return { kind: 'gray16', pixels: f.image };
  }
  if ((info.name === 'RGB8' || info.name === 'BGR8') && f.image.length >= 3 * n) {
    if (info.name === 'RGB8') return { kind: 'rgb8', pixels: f.image };
    // a copy (Buffer.slice would be a view): swapping in place must not touch the frame's pooled bytes
    const p = copyBytes(f.image.subarray(0, 3 * n));
    for (let i = 0; i < p.length; i += 3) [p[i], p[i + 2]] = [p[i + 2]!, p[i]!];
    return { kind: 'rgb8', pixels: p };
  }
  return undefined;
}

function pgm(width: number, height: number, kind: 'gray8' | 'gray16', pixels: Uint8Array): Buffer {
  const head = Buffer.from(`P5\n${width} ${height}\n${kind === 'gray8' ? 255 : 65535}\n`, 'latin1');
  const n = width * height * (kind === 'gray8' ? 1 : 2);
  const body = Buffer.from(pixels.subarray(0, n));
  if (kind === 'gray16') body.swap16(); // PGM wants big-endian samples
  return Buffer.concat([head, body]);
}

async function writeFrame(dir: string, index: number, f: GvspFrame, format: string): Promise<string> {
  const base = join(dir, `frame-${String(index).padStart(5, '0')}`);
  const img = format === 'raw' ? undefined : imageOf(f);
  if (format === 'png' && img) {
    const file = `${base}.png`;
    await writeFile(file, encodePng(f.width, f.height, img.kind, img.pixels));
    return file;
  }
  if (format === 'pgm' && img && img.kind !== 'rgb8') {
    const file = `${base}.pgm`;
    await writeFile(file, pgm(f.width, f.height, img.kind, img.pixels));
    return file;
  }
  const file = `${base}.raw`;
  await writeFile(file, f.data);
  return file;
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

function common(cmd: Command): Command {
  return genicamFetchOptions(cmd)
    .option('--port <n>', 'camera GVCP port (default 3956)')
    .option('--packet-size <bytes>', 'largest stream packet size to negotiate (default 1500)')
    .option('--host-address <ip>', 'address the camera streams to (default: our interface on its subnet)')
    .option('--no-resend', 'do not ask for missing packets')
    .option('--worker', 'receive in a worker thread')
    .option('--timeout <ms>', 'give up on a frame after this long (default 5000)')
    .option('--json', 'print one JSON document');
}

/** `cam gige grab` and `cam gige stream`: GVSP acquisition from a camera. */
export function registerGigeStream(gige: Command): void {
  common(
    gige
      .command('grab')
      .description('grab frames from a camera and write them as images (PNG for 8-bit mono and RGB)')
      .argument('<ip>', 'camera address')
      .option('--frames <n>', 'frames to grab (default 1)')
      .option('--out <dir>', 'output directory (default .)')
      .option('--format <fmt>', 'png | pgm | raw (default png; raw for formats PNG cannot hold)'),
  ).action(async (address: string, opts: GrabOptions) => {
    const json = Boolean(opts.json);
    try {
      const frames = opts.frames === undefined ? 1 : parseNumber(opts.frames, 'frames');
      const format = opts.format ?? 'png';
      if (!['png', 'pgm', 'raw'].includes(format)) throw new UsageError(`format "${format}" is not png, pgm or raw`);
      const timeoutMs = opts.timeout === undefined ? 5000 : parseNumber(opts.timeout, 'timeout');
      const dir = opts.out ?? '.';
      await mkdir(dir, { recursive: true });
      const { stream, done } = await startStream(address, opts);
      const written: {
        file: string;
        blockId: bigint;
        status: string;
        width: number;
        height: number;
        pixelFormat: string;
      }[] = [];
      try {
        for (let i = 0; i < frames; i++) {
          const f = await stream.nextFrame({ timeoutMs });
          if (!f) break;
          try {
            const file = await writeFrame(dir, i, f, format);
            written.push({
              file,
              blockId: f.blockId,
              status: f.status,
              width: f.width,
              height: f.height,
              pixelFormat: f.pixelFormatName,
            });
          } finally {
            f.release();
          }
          if (!json) process.stderr.write(`\rframe ${i + 1}/${frames}  ${stream.stats().frameRate.toFixed(1)} fps`);
        }
      } finally {
        if (!json && frames > 0) process.stderr.write('\n');
        const stats = stream.stats();
        await done();
        if (json) printJson({ ok: true, packetSize: stream.packetSize, frames: written, stats });
        else {
          for (const w of written)
            process.stdout.write(
              `${w.file}  block ${w.blockId}  ${w.width}x${w.height} ${w.pixelFormat}  ${w.status}\n`,
            );
          process.stdout.write(`${statsLines(stats)}\n`);
        }
      }
    } catch (e) {
      reportError(e, json);
    }
  });

  common(
    gige
      .command('stream')
      .description('stream from a camera and show frame rate, bandwidth and losses live')
      .argument('<ip>', 'camera address')
      .option('--seconds <s>', 'how long (default 5)'),
  ).action(async (address: string, opts: LiveOptions) => {
    const json = Boolean(opts.json);
    try {
      const seconds = opts.seconds === undefined ? 5 : parseNumber(opts.seconds, 'seconds');
      const { stream, done } = await startStream(address, opts);
      const controller = new AbortController();
      const stop = setTimeout(() => controller.abort(), seconds * 1000);
      const onSig = (): void => controller.abort();
      process.once('SIGINT', onSig);
      let last = Date.now();
      try {
        for await (const f of stream.frames({ signal: controller.signal })) {
          f.release();
          if (!json && Date.now() - last >= 1000) {
            last = Date.now();
            const s = stream.stats();
            process.stderr.write(
              `${s.frameRate.toFixed(1)} fps  ${(s.bytesPerSecond / 1e6).toFixed(2)} MB/s  complete ${s.completedFrames}  failed ${s.failures}  missing packets ${s.missingPackets}  resent ${s.resentPackets}\n`,
            );
          }
        }
      } finally {
        clearTimeout(stop);
        process.off('SIGINT', onSig);
        const stats = stream.stats();
        await done();
        if (json) printJson({ ok: true, seconds, packetSize: stream.packetSize, stats });
        else process.stdout.write(`${statsLines(stats)}\n`);
      }
    } catch (e) {
      reportError(e, json);
    }
  });
}
