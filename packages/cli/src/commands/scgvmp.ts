import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GVCP_PORT, GvcpClient, GvcpDevice } from '@cam/gvcp';
import { deadlineSignal, isIpv4, ProtocolError, TimeoutError } from '@cam/net-utils';
import {
  attachToGvcpDevice,
  errorCodeName,
  type PayloadKindName,
  payloadKindName,
  registerMapAt,
  SC_GVMP_REGISTER_BASE,
  ScGvmpDevice,
  type ScGvmpStream,
  startStream,
} from '@cam/sc-gvmp';
import type { Command } from 'commander';
import { interruptSignal } from '../interrupt.js';
import { type MediaOutput, openMediaOutput, textStream } from '../media-output.js';
import { jsonReplacer, parseNumber, printJson, reportError, UsageError } from '../output.js';

interface GrabOptions {
  frames?: string;
  out?: string;
  output?: string;
  port?: string;
  listenPort?: string;
  localAddress?: string;
  registerBase?: string;
  timeout?: string;
  json?: boolean;
}

interface SimulateOptions {
  address?: string;
  port?: string;
  fps?: string;
  payload?: string;
  width?: string;
  height?: string;
  registerBase?: string;
  requireSession?: boolean;
  exitAfter?: string;
  json?: boolean;
}

const EXTENSION: Record<PayloadKindName, string> = { JPEG: 'jpg', H264: 'h264', H265: 'h265', RAW: 'raw', YUV: 'yuv' };

function ipv4(text: string, what: string): string {
  if (!isIpv4(text)) throw new UsageError(`${what} "${text}" is not an IPv4 address`);
  return text;
}

function port(text: string | undefined, fallback: number, what = 'port'): number {
  if (text === undefined) return fallback;
  const v = parseNumber(text, what);
  if (v > 0xffff) throw new UsageError(`${what} ${v} is not in 0..65535`);
  return v;
}

function registerBase(text: string | undefined): number {
  const v = text === undefined ? SC_GVMP_REGISTER_BASE : parseNumber(text, 'register base');
  if (v % 4 !== 0 || v > 0xffffffec)
    throw new UsageError(`register base 0x${v.toString(16)} is not a 4-byte aligned address`);
  return v;
}

/** `cam scgvmp ...`: smart-camera TCP image channel. */
export function registerScGvmp(program: Command): void {
  const scgvmp = program.command('scgvmp').description('Smart-camera TCP image channel (SC_GVMP): grab, simulate');

  scgvmp
    .command('grab')
    .description('take control over GVCP, start an SC_GVMP stream, receive frames, stop')
    .argument('<ip>', 'camera address')
    .option('--frames <n>', 'frames to receive (default 10)')
    .option('--out <dir>', 'write each frame to DIR/frame-<seq>.<jpg|h264|h265|raw|yuv>')
    .option(
      '-o, --output <file>',
      'write the payloads one after another to FILE, - for stdout (JPEG: MJPEG; H.264: Annex B)',
    )
    .option('--port <n>', `camera GVCP UDP port (default ${GVCP_PORT})`)
    .option('--listen-port <n>', 'local TCP port for the image channel (default: any free port)')
    .option('--local-address <ip>', 'local address written into MCDA (default: the interface that reaches the camera)')
    .option(
      '--register-base <addr>',
      `address of MCDA; the other registers follow (default 0x${SC_GVMP_REGISTER_BASE.toString(16)})`,
    )
    .option('--timeout <ms>', 'give up after this long in total (default 20000)')
    .option('--json', 'print one JSON document')
    .action(async (ip: string, options: GrabOptions) => {
      const json = options.json === true;
      let client: GvcpClient | undefined;
      let stream: ScGvmpStream | undefined;
      let media: MediaOutput | undefined;
      using interrupt = interruptSignal();
      let lastDisconnect: Error | undefined;
      try {
        ipv4(ip, 'camera address');
        const count = options.frames === undefined ? 10 : parseNumber(options.frames, 'frames');
        if (count < 1 || count > 1_000_000) throw new UsageError('--frames must be in 1..1000000');
        const timeoutMs = options.timeout === undefined ? 20_000 : parseNumber(options.timeout, 'timeout');
        using deadline = deadlineSignal({ timeoutMs }, 'scgvmp grab');
        // Ctrl-C ends the loop like the last frame does: stop the stream, print the summary
        const signal = AbortSignal.any([deadline.signal, interrupt.signal]);
        if (options.out !== undefined) await mkdir(options.out, { recursive: true });
        if (options.output !== undefined) media = openMediaOutput(options.output);
        const out = textStream(media);
        client = await GvcpClient.connect(ip, { port: port(options.port, GVCP_PORT) });
        await client.takeControl({ signal });
        stream = await startStream(client, {
          signal,
          registers: registerMapAt(registerBase(options.registerBase)),
          ...(options.listenPort === undefined ? {} : { port: port(options.listenPort, 0, 'listen port') }),
          ...(options.localAddress === undefined ? {} : { localAddress: ipv4(options.localAddress, 'local address') }),
        });
        // a protocol error closes the image connection and the host waits for the device to reconnect: when the
        // deadline then passes, that error (not "timed out") is what the user needs to hear
        stream.on('disconnect', (d) => {
          if (d.error) lastDisconnect = d.error;
        });
        if (!json) {
          out.write(`streaming from ${ip} to ${stream.localAddress}:${stream.port}\n`);
          stream.on('gap', (g) => out.write(`gap: ${g.missing} frame(s) missing before seq ${g.received}\n`));
          stream.on('state', (c) => out.write(`state ${c.state}\n`));
          stream.on('restart', (r) => out.write(`restart #${r.attempt}\n`));
        }
        const frames: {
          seq: number;
          kind: string;
          keyFrame: boolean;
          bytes: number;
          missing: number;
          file?: string;
        }[] = [];
        try {
          for await (const f of stream.frames({ signal })) {
            const kind = payloadKindName(f.kind) ?? String(f.kind);
            const entry: (typeof frames)[number] = {
              seq: f.seq,
              kind,
              keyFrame: f.keyFrame,
              bytes: f.payload.byteLength,
              missing: f.missing,
            };
            let readerGone = false;
            try {
              if (options.out !== undefined) {
                entry.file = join(options.out, `frame-${f.seq}.${EXTENSION[kind as PayloadKindName] ?? 'bin'}`);
                await writeFile(entry.file, f.payload);
              }
              if (media) readerGone = !(await media.write(f.payload));
            } finally {
              f.release(); // the payload is written (or not needed): its buffer can take the next frame
            }
            frames.push(entry);
            if (!json) {
              out.write(
                `frame ${entry.seq}: ${kind}${entry.keyFrame ? ' key' : ''}, ${entry.bytes} bytes${entry.file ? ` -> ${entry.file}` : ''}\n`,
              );
            }
            if (frames.length === count || readerGone) break;
          }
        } catch (e) {
          if (!interrupt.signal.aborted) throw e;
        }
        if (frames.length < count && !interrupt.signal.aborted && !media?.readerGone) signal.throwIfAborted();
        await media?.close();
        await stream.stop({ timeoutMs: 5000 });
        const errCode = stream.errCode;
        const result = {
          ok: true,
          camera: ip,
          localAddress: stream.localAddress,
          port: stream.port,
          frames,
          stats: stream.stats,
          state: stream.state,
          errCode: { code: errCode, name: errorCodeName(errCode) ?? String(errCode) },
        };
        if (json) {
          if (media?.toStdout) process.stderr.write(`${JSON.stringify(result, jsonReplacer)}\n`);
          else printJson(result);
        } else {
          const s = stream.stats;
          out.write(
            `received ${s.framesReceived} frames, ${s.bytesReceived} bytes, ${s.framesMissing} missing; stream ${stream.state}\n`,
          );
        }
      } catch (error) {
        await stream?.close();
        reportError(
          lastDisconnect !== undefined && TimeoutError.isInstance(error)
            ? new ProtocolError(
                `the image connection was closed by ${lastDisconnect.name}: ${lastDisconnect.message} ` +
                  '(no frame followed before the timeout)',
                undefined,
                { cause: lastDisconnect },
              )
            : error,
          json,
        );
      } finally {
        await client?.close();
      }
    });

  scgvmp
    .command('simulate')
    .description('run a simulated smart camera (GVCP + SC_GVMP image channel) until stopped with Ctrl-C / SIGTERM')
    .option('--address <ip>', 'address to listen on and to connect from (default 0.0.0.0)')
    .option('--port <n>', `GVCP UDP port (default ${GVCP_PORT}; 0 = any free port)`)
    .option('--fps <f>', 'frames per second (default 10; 0 = as fast as the connection takes them)')
    .option('--payload <kind>', 'test pattern as jpeg or raw (default jpeg)')
    .option('--width <n>', 'test pattern width, a multiple of 8 (default 320)')
    .option('--height <n>', 'test pattern height, a multiple of 8 (default 240)')
    .option(
      '--register-base <addr>',
      `address of MCDA; the other registers follow (default 0x${SC_GVMP_REGISTER_BASE.toString(16)})`,
    )
    .option('--require-session', 'refuse STREAM_START from clients without the control channel (ERR_NO_SESSION)')
    .option('--exit-after <ms>', 'stop after this long (for scripts and tests)')
    .option('--json', 'print one JSON line describing the running camera once listening')
    .action(async (options: SimulateOptions) => {
      const json = options.json === true;
      let gvcp: GvcpDevice | undefined;
      let sc: ScGvmpDevice | undefined;
      try {
        const address = options.address === undefined ? undefined : ipv4(options.address, 'address');
        const payload = (options.payload ?? 'jpeg').toLowerCase();
        if (payload !== 'jpeg' && payload !== 'raw')
          throw new UsageError(`--payload must be jpeg or raw, not "${payload}"`);
        const fps = options.fps === undefined ? 10 : Number(options.fps);
        if (!(Number.isFinite(fps) && fps >= 0 && fps <= 1000))
          throw new UsageError('--fps must be a number in 0..1000');
        const size = (text: string | undefined, fallback: number, what: string): number => {
          const v = text === undefined ? fallback : parseNumber(text, what);
          if (v < 8 || v > 8192 || v % 8 !== 0) throw new UsageError(`${what} must be a multiple of 8 in 8..8192`);
          return v;
        };
        const width = size(options.width, 320, 'width');
        const height = size(options.height, 240, 'height');
        const exitAfter = options.exitAfter === undefined ? undefined : parseNumber(options.exitAfter, 'exit-after');
        const registers = registerMapAt(registerBase(options.registerBase));
        gvcp = new GvcpDevice({
          port: port(options.port, GVCP_PORT),
          ...(address === undefined ? {} : { address }),
          modelName: 'SC_GVMP smart camera',
        });
        sc = new ScGvmpDevice({
          fps,
          source: payload,
          testPattern: { width, height },
          registers,
          requireSession: options.requireSession === true,
          ...(address === undefined || address === '0.0.0.0' ? {} : { localAddress: address }),
        });
        attachToGvcpDevice(sc, gvcp);
        const where = await gvcp.listen();
        const info = {
          ok: true,
          address: where.address,
          port: where.port,
          payload: payload === 'jpeg' ? 'JPEG' : 'RAW',
          fps,
          width,
          height,
          registers,
        };
        if (json) process.stdout.write(`${JSON.stringify(info)}\n`);
        else {
          process.stdout.write(
            `SC_GVMP smart camera on ${where.address}:${where.port} (GVCP), ${info.payload} ${width}x${height} at ${fps} fps, ` +
              `registers MCDA 0x${registers.mcda.toString(16)}..ERR_CODE 0x${registers.errCode.toString(16)}; Ctrl-C to stop\n`,
          );
          const device = sc;
          device.on('state', (c) => {
            const code = c.errCode === 0 ? '' : ` (${errorCodeName(c.errCode) ?? c.errCode})`;
            const dest = c.state === 'Connecting' ? ` to ${device.destinationAddress}:${device.destinationPort}` : '';
            process.stdout.write(`${c.previous} -> ${c.state}${dest}${code}\n`);
          });
          device.on('retry', (r) => process.stdout.write(`reconnect #${r.attempt} in ${r.delayMs} ms\n`));
        }
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            clearTimeout(timer);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
          const timer = exitAfter === undefined ? undefined : setTimeout(stop, exitAfter);
        });
        const stats = { ...sc.stats };
        await sc.close();
        await gvcp.close();
        if (!json) {
          process.stdout.write(
            `stopped: ${stats.connections} connections, ${stats.framesSent} frames sent, ${stats.framesDropped} dropped\n`,
          );
        }
      } catch (error) {
        await sc?.close();
        await gvcp?.close();
        reportError(error, json);
      }
    });
}
