import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { DEFAULT_API_PORT } from '@cam/ehome';
import { ProtocolError } from '@cam/net-utils';
import type { Command } from 'commander';
import { interruptSignal } from '../interrupt.js';
import { parseNumber, printJson, reportError, terminalSafe, UsageError } from '../output.js';
import { startProgress } from '../progress.js';

/** Options every platform client command takes. */
export interface PlatformClientOptions {
  platform?: string;
  token?: string;
  json?: boolean;
  timeout?: string;
}

/** Time the platform has to answer a call (and to send a JSON answer whole). */
const DEFAULT_API_TIMEOUT_MS = 30_000;
/** Largest JSON answer read from the platform: an endless or huge body is refused at this many bytes. */
export const MAX_API_JSON_BYTES = 16 * 1024 * 1024;
/** Largest error document read (the status alone is kept beyond it). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

function apiTimeoutMs(opts: PlatformClientOptions): number {
  if (opts.timeout === undefined) return DEFAULT_API_TIMEOUT_MS;
  const ms = parseNumber(opts.timeout, 'timeout');
  if (ms < 1) throw new UsageError('--timeout must be at least 1 ms');
  return ms;
}

/** The platform a client command talks to: `--platform`, `$CAM_EHOME_PLATFORM`, or the local default. */
export function platformUrl(opts: PlatformClientOptions): string {
  const text = opts.platform ?? process.env.CAM_EHOME_PLATFORM ?? `http://127.0.0.1:${DEFAULT_API_PORT}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--platform "${text}" is not a URL like http://127.0.0.1:${DEFAULT_API_PORT}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--platform must be http(s)://');
  return url.origin;
}

/** Adds the common client options (`--platform`, `--token`, `--json`). */
export function clientOptions(cmd: Command): Command {
  return cmd
    .option(
      '--platform <url>',
      `platform HTTP API (default $CAM_EHOME_PLATFORM or http://127.0.0.1:${DEFAULT_API_PORT})`,
    )
    .option('--token <token>', 'bearer token of the API (default $CAM_EHOME_TOKEN)')
    .option('--timeout <ms>', `time the platform has to answer (default ${DEFAULT_API_TIMEOUT_MS})`)
    .option('--json', 'print one JSON document');
}

/** The API answered with an error document: its stable `code` and message. */
class PlatformApiError extends ProtocolError {
  static override readonly errorName: string = 'PlatformApiError';
}

/**
 * Reads a whole body, refusing it at `maxBytes` (an endless or huge answer must not grow this process) and when it
 * takes longer than `timeoutMs`.
 */
async function readCapped(res: Response, maxBytes: number, timeoutMs: number, base: string): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void reader.cancel().catch(() => {});
  }, timeoutMs);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        void reader.cancel().catch(() => {});
        throw new PlatformApiError(
          `the answer of the platform at ${base} is larger than ${maxBytes} bytes (the client's limit); not read further`,
          'TOO_LARGE',
        );
      }
      chunks.push(value);
    }
  } catch (e) {
    if (timedOut) {
      throw new PlatformApiError(
        `the platform at ${base} did not send its answer within ${timeoutMs} ms (--timeout)`,
        'TIMEOUT',
      );
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) {
    throw new PlatformApiError(
      `the platform at ${base} did not send its answer within ${timeoutMs} ms (--timeout)`,
      'TIMEOUT',
    );
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Calls the platform API; a non-2xx answer throws with the API's error code and message. The platform must answer
 * (status and headers) within `--timeout`; the body is the caller's to read (a video may stream for long).
 */
export async function apiCall(opts: PlatformClientOptions, path: string, init: RequestInit = {}): Promise<Response> {
  const base = platformUrl(opts);
  const timeoutMs = apiTimeoutMs(opts);
  const token = opts.token ?? process.env.CAM_EHOME_TOKEN;
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const answered = new AbortController();
  const timer = setTimeout(() => answered.abort(), timeoutMs);
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { ...init, headers, signal: answered.signal });
  } catch (e) {
    if (answered.signal.aborted) {
      throw new PlatformApiError(
        `the platform at ${base} did not answer within ${timeoutMs} ms (--timeout)`,
        'TIMEOUT',
      );
    }
    throw new PlatformApiError(
      `cannot reach the platform at ${base} (${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}); is \`cam ehome serve\` running?`,
      'UNREACHABLE',
    );
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = res.statusText;
    try {
      const doc = JSON.parse(
        new TextDecoder().decode(await readCapped(res, MAX_ERROR_BODY_BYTES, timeoutMs, base)),
      ) as { error?: { code?: string; message?: string } };
      code = typeof doc.error?.code === 'string' ? doc.error.code : code;
      message = typeof doc.error?.message === 'string' ? doc.error.message : message;
    } catch {
      // not JSON, too large or too slow: keep the status
    }
    throw new PlatformApiError(terminalSafe(`${code}: ${message}`.slice(0, 2000)), code);
  }
  return res;
}

async function apiJson<T>(opts: PlatformClientOptions, path: string, init?: RequestInit): Promise<T> {
  const res = await apiCall(opts, path, init);
  const body = await readCapped(res, MAX_API_JSON_BYTES, apiTimeoutMs(opts), platformUrl(opts));
  try {
    return JSON.parse(new TextDecoder().decode(body)) as T;
  } catch (e) {
    throw new PlatformApiError(
      `the platform at ${platformUrl(opts)} did not answer with JSON (${e instanceof Error ? e.message : String(e)})`,
      'BAD_ANSWER',
    );
  }
}

/**
 * Writes a response body to `out` (`-` = stdout) through a `.part` file renamed at the end, so a failed or empty
 * transfer leaves no file. `check(bytes)` sees every chunk and `accept()` decides at the end.
 */
export async function saveBody(
  res: Response,
  out: string | undefined,
  see: (chunk: Uint8Array) => void,
  accept: () => string | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const toStdout = out === '-';
  const part = out && !toStdout ? `${out}.part` : undefined;
  const file: WriteStream | undefined = part ? createWriteStream(part) : undefined;
  let failure: unknown;
  try {
    if (!res.body) throw new PlatformApiError('the platform sent no body', 'NO_MEDIA');
    // Ctrl-C (signal) ends the body where it is: what arrived is kept, and the closed connection tells the platform
    // to stop the device's stream.
    const reader = res.body.getReader();
    const stop = (): void => void reader.cancel().catch(() => {});
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        see(value);
        const sink = toStdout ? process.stdout : file;
        if (sink && !sink.write(value)) await new Promise<void>((r) => sink.once('drain', () => r()));
      }
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    const refusal = accept();
    if (refusal !== undefined) throw new PlatformApiError(refusal, 'NO_MEDIA');
  } catch (e) {
    failure = e;
  }
  if (file) await new Promise<void>((r) => file.end(() => r()));
  if (failure !== undefined) {
    if (part) await rm(part, { force: true });
    throw failure;
  }
  if (part && out) await rename(part, out);
}

/** Counts H.264 pictures in an Annex B byte stream fed in chunks of any size (a start of a picture's first slice). */
export class AnnexBFrameCounter {
  frames = 0;
  keyframes = 0;
  bytes = 0;
  private tail = new Uint8Array(0);

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    const buf = new Uint8Array(this.tail.length + chunk.length);
    buf.set(this.tail, 0);
    buf.set(chunk, this.tail.length);
    let i = 0;
    // A start code 00 00 01, its NAL header, and the first byte of the slice header (first_mb_in_slice == 0 sets
    // the top bit) must all be in view; the last 4 bytes are kept for the next chunk.
    for (; i + 4 < buf.length; i++) {
      if (buf[i] !== 0 || buf[i + 1] !== 0 || buf[i + 2] !== 1) continue;
      const type = buf[i + 3]! & 0x1f;
      if ((type === 1 || type === 5) && (buf[i + 4]! & 0x80) !== 0) {
        this.frames++;
        if (type === 5) this.keyframes++;
      }
    }
    this.tail = buf.slice(i);
  }
}

/** Runs a client command: errors reported with their code, exit status non-zero on any failure. */
async function run(opts: PlatformClientOptions, body: () => Promise<void>): Promise<void> {
  try {
    platformUrl(opts);
    await body();
  } catch (e) {
    reportError(e, opts.json === true);
  }
}

function print(json: boolean, value: unknown, text: string): void {
  if (json) printJson(value);
  else process.stdout.write(`${text}\n`);
}

interface DeviceDoc {
  deviceId: string;
  online: boolean;
  address: string;
  port: number;
  firmware: string;
  lastSeen: string;
}

/** Streams a live or recorded video from the platform API to a file or stdout; 0 frames is a failure. */
export async function streamFromPlatform(
  opts: PlatformClientOptions & { out?: string; id?: string },
  path: string,
  what: string,
): Promise<void> {
  const json = opts.json === true;
  const started = Date.now();
  // Ctrl-C stops the stream cleanly: the frames so far are kept and the summary printed (exit 130)
  using interrupt = interruptSignal();
  const res = await apiCall(opts, path);
  const counter = new AnnexBFrameCounter();
  // on stderr, so `-o -` keeps stdout for the video
  const progress = startProgress({ label: `${what}${opts.id ? ` ${opts.id}` : ''}`, unit: 'bytes', json });
  try {
    await saveBody(
      res,
      opts.out,
      (chunk) => {
        counter.push(chunk);
        progress.update(counter.bytes);
      },
      () => (counter.frames === 0 ? `${what}: the platform sent no video frames` : undefined),
      interrupt.signal,
    );
  } finally {
    progress.stop();
  }
  const doc = {
    ok: true,
    frames: counter.frames,
    keyframes: counter.keyframes,
    bytes: counter.bytes,
    seconds: (Date.now() - started) / 1000,
    file: opts.out,
  };
  if (opts.out === '-') {
    if (json) process.stderr.write(`${JSON.stringify(doc)}\n`);
    return;
  }
  print(
    json,
    doc,
    `${doc.frames} frames (${doc.keyframes} key frames), ${doc.bytes} bytes${opts.out ? ` -> ${opts.out}` : ''}`,
  );
}

/** Downloads a recording (MPEG-PS) from the platform API; 0 bytes is a failure. */
export async function downloadFromPlatform(
  opts: PlatformClientOptions & { out: string; id?: string },
  path: string,
): Promise<void> {
  let bytes = 0;
  const res = await apiCall(opts, path);
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  const progress = startProgress({
    label: `download${opts.id ? ` ${opts.id}` : ''}`,
    ...(Number.isSafeInteger(length) && length > 0 ? { total: length } : {}),
    unit: 'bytes',
    json: opts.json === true,
  });
  try {
    await saveBody(
      res,
      opts.out,
      (chunk) => {
        bytes += chunk.length;
        progress.update(bytes);
      },
      () => (bytes === 0 ? 'the platform sent an empty recording' : undefined),
    );
  } finally {
    progress.stop();
  }
  if (opts.out !== '-') print(opts.json === true, { ok: true, bytes, file: opts.out }, `${bytes} bytes -> ${opts.out}`);
}

/** `cam ehome devices|events|capture|ptz|config|records`: calls to a running platform's HTTP API. */
export function registerEhomeClient(ehome: Command): void {
  clientOptions(ehome.command('devices'))
    .description('list the devices a running platform knows (online and offline)')
    .action((opts: PlatformClientOptions) =>
      run(opts, async () => {
        const devices = await apiJson<DeviceDoc[]>(opts, '/api/devices');
        if (opts.json) printJson(devices);
        else {
          for (const d of devices) {
            process.stdout.write(
              `${terminalSafe(`${d.deviceId}  ${d.online ? 'online ' : 'offline'}  ${d.address}:${d.port}  fw ${d.firmware}  last seen ${d.lastSeen}`)}\n`,
            );
          }
          process.stdout.write(`${devices.length} device(s)\n`);
        }
      }),
    );

  clientOptions(ehome.command('events'))
    .description("a platform's stored events (alarms, pictures, sessions), oldest first")
    .option('--type <type>', 'only this event type (alarm, online, offline, media, gps, ...)')
    .option('--device <id>', 'only this device')
    .option('--from <time>', 'from (ISO 8601, epoch ms or "YYYY-MM-DD HH:MM:SS")')
    .option('--to <time>', 'to')
    .option('--after <id>', 'only events after this id')
    .option('--limit <n>', 'at most this many (1..1000)', '100')
    .action(
      (
        opts: PlatformClientOptions & {
          type?: string;
          device?: string;
          from?: string;
          to?: string;
          after?: string;
          limit: string;
        },
      ) =>
        run(opts, async () => {
          const q = new URLSearchParams();
          for (const k of ['type', 'device', 'from', 'to', 'after', 'limit'] as const) {
            const v = opts[k];
            if (v !== undefined) q.set(k, v);
          }
          const page = await apiJson<{
            events: { id: number; at: string; type: string; deviceId?: string }[];
            next: number | null;
          }>(opts, `/api/events?${q}`);
          if (opts.json) printJson(page);
          else {
            for (const e of page.events)
              process.stdout.write(
                `${terminalSafe(`${e.id}  ${e.at}  ${String(e.type).padEnd(8)} ${e.deviceId ?? ''}`)}\n`,
              );
            if (page.next !== null) process.stdout.write(`more: --after ${page.next}\n`);
          }
        }),
    );

  clientOptions(ehome.command('capture'))
    .description('take a picture on a device through the platform and save it')
    .requiredOption('--id <deviceId>', 'DeviceID')
    .option('--channel <n>', 'video channel', '1')
    .option('-o, --out <file>', 'save the JPEG here (- = stdout)')
    .action((opts: PlatformClientOptions & { id: string; channel: string; out?: string }) =>
      run(opts, async () => {
        const channel = parseNumber(opts.channel, '--channel');
        const pic = await apiJson<{ picId: string; size?: number; url?: string }>(
          opts,
          `/api/devices/${encodeURIComponent(opts.id)}/capture`,
          { method: 'POST', body: JSON.stringify({ channel }) },
        );
        if (opts.out && pic.url) {
          let bytes = 0;
          await saveBody(
            await apiCall(opts, pic.url),
            opts.out,
            (c) => {
              bytes += c.length;
            },
            () => (bytes === 0 ? 'empty picture' : undefined),
          );
        }
        if (opts.out !== '-')
          print(
            opts.json === true,
            { ok: true, ...pic, file: opts.out },
            `${pic.picId}  ${pic.size ?? '?'} bytes  ${pic.url ?? ''}${opts.out ? ` -> ${opts.out}` : ''}`,
          );
      }),
    );

  clientOptions(ehome.command('ptz'))
    .description('move a PTZ camera through the platform')
    .requiredOption('--id <deviceId>', 'DeviceID')
    .requiredOption('--command <cmd>', 'LEFT, RIGHT, UP, DOWN, ZOOM_IN, ...')
    .option('--action <Start|Stop>', 'start or stop the movement', 'Start')
    .option('--speed <1-7>', 'speed', '4')
    .option('--channel <n>', 'video channel', '1')
    .action(
      (opts: PlatformClientOptions & { id: string; command: string; action: string; speed: string; channel: string }) =>
        run(opts, async () => {
          await apiJson(opts, `/api/devices/${encodeURIComponent(opts.id)}/ptz`, {
            method: 'POST',
            body: JSON.stringify({
              command: opts.command,
              action: opts.action,
              speed: parseNumber(opts.speed, '--speed'),
              channel: parseNumber(opts.channel, '--channel'),
            }),
          });
          print(opts.json === true, { ok: true }, `${opts.id}: ${opts.command} ${opts.action}`);
        }),
    );

  clientOptions(ehome.command('config'))
    .description('read (or with --set, write) a configuration block of a device through the platform')
    .requiredOption('--id <deviceId>', 'DeviceID')
    .requiredOption('--name <ConfigCmd>', 'configuration block, e.g. GetServerInfo')
    .option('--set <json>', 'write this JSON tree instead of reading')
    .action((opts: PlatformClientOptions & { id: string; name: string; set?: string }) =>
      run(opts, async () => {
        const path = `/api/devices/${encodeURIComponent(opts.id)}/config/${encodeURIComponent(opts.name)}`;
        if (opts.set !== undefined) {
          try {
            JSON.parse(opts.set);
          } catch {
            throw new UsageError('--set must be a JSON object');
          }
          await apiJson(opts, path, { method: 'PUT', body: opts.set });
          print(opts.json === true, { ok: true }, `${opts.id}: ${opts.name} written`);
          return;
        }
        const tree = await apiJson<unknown>(opts, path);
        if (opts.json) printJson(tree);
        else process.stdout.write(`${JSON.stringify(tree, null, 2)}\n`);
      }),
    );

  clientOptions(ehome.command('records'))
    .description("list a device's recordings in a time range through the platform")
    .requiredOption('--id <deviceId>', 'DeviceID')
    .requiredOption('--from <time>', 'start (ISO 8601 or "YYYY-MM-DD HH:MM:SS")')
    .requiredOption('--to <time>', 'end')
    .option('--channel <n>', 'video channel', '1')
    .action((opts: PlatformClientOptions & { id: string; from: string; to: string; channel: string }) =>
      run(opts, async () => {
        const q = new URLSearchParams({ from: opts.from, to: opts.to, channel: opts.channel });
        const files = await apiJson<{ name: string; start: string; stop: string; size: number }[]>(
          opts,
          `/api/devices/${encodeURIComponent(opts.id)}/records?${q}`,
        );
        if (opts.json) printJson(files);
        else {
          for (const f of files)
            process.stdout.write(`${terminalSafe(`${f.name}  ${f.start} .. ${f.stop}  ${f.size} bytes`)}\n`);
          process.stdout.write(`${files.length} recording(s)\n`);
        }
      }),
    );
}
