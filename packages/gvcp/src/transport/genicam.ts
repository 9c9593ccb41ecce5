import { open, realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import {
  AbortError,
  abortReason,
  clipText,
  deadlineSignal,
  FrameTooLargeError,
  MalformedError,
  ProtocolError,
  TimeoutError,
  throwIfAborted,
  WireError,
} from '@cam/net-utils';
import {
  BootstrapRegister,
  BootstrapStringSize,
  type GenicamUrl,
  parseGenicamUrl,
  urlFromRegister,
} from '../codec/index.js';
import { requireFflate } from '../fflate.js';
import type { GvcpCallOptions, RegisterAccess } from './client.js';

/** A GenICam description file fetched from a device. */
export interface GenicamFile {
  /** The URL it was found through (as read from the URL register). */
  url: string;
  /** Which register held it: 0x0200 (first) or 0x0400 (second). */
  urlRegister: number;
  /** Parsed URL. */
  location: GenicamUrl;
  /** From `?SchemaVersion=`, when present. */
  schemaVersion?: string;
  /** The XML text. */
  xml: string;
  /** True when the device stored a .zip that was unpacked. */
  zipped: boolean;
  /** The raw file as stored (zip or XML bytes). */
  raw: Uint8Array;
}

/** Options of {@link fetchGenicamXml}. */
export interface FetchGenicamOptions extends GvcpCallOptions {
  /** Largest file (stored and unpacked) accepted, in bytes (default 32 MiB). Reads stop at the cap. */
  maxBytes?: number;
  /** Longest time the whole download may take (both URL registers, every read), ms (default 30 000). */
  fetchTimeoutMs?: number;
  /**
   * Directories a device's `File:` URL may point into (default: none, so every `File:` URL is refused). The URL
   * names a file on *this* host, chosen by the device: without this switch a device could make the host read any
   * local file (or `/dev/zero`) as "XML". Symbolic links are resolved before the check; only regular files are read.
   */
  allowFileUrlsIn?: string | readonly string[];
}

const DEFAULT_MAX = 32 * 1024 * 1024;
const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
/** Most entries read from a GenICam .zip. */
const MAX_ZIP_ENTRIES = 16;
/** Bytes read from a host file per read() call. */
const FILE_CHUNK = 64 * 1024;

/** A device-chosen GenICam URL the host refuses to follow (a `File:` URL outside the allowed directories). */
export class GenicamUrlRefusedError extends ProtocolError {
  static override readonly errorName: string = 'GenicamUrlRefusedError';
  constructor(message: string) {
    super(message, 'URL_REFUSED');
  }
}

/**
 * Downloads the device's GenICam XML: reads the first URL register (0x0200), falling back to the second (0x0400)
 * when the first is empty, unparseable or its file cannot be fetched; follows `Local:` (READMEM), `File:` (host
 * file, only inside `allowFileUrlsIn`) and `http(s):` URLs; unpacks `.zip` with fflate. Every read the device asks
 * for is capped at `maxBytes` (counted as it streams in, stopped at the cap) and the whole download at
 * `fetchTimeoutMs`.
 */
export async function fetchGenicamXml(device: RegisterAccess, options: FetchGenicamOptions = {}): Promise<GenicamFile> {
  const errors: string[] = [];
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  using deadline = deadlineSignal({ signal: options.signal, timeoutMs: fetchTimeoutMs }, 'GenICam XML download');
  const call: FetchGenicamOptions = { ...options, signal: deadline.signal };
  for (const register of [BootstrapRegister.FIRST_URL, BootstrapRegister.SECOND_URL]) {
    let url = '';
    try {
      url = urlFromRegister(await device.readMemory(register, BootstrapStringSize.FIRST_URL, call));
      if (url === '') throw new MalformedError(0, 'URL register is empty');
      const location = parseGenicamUrl(url);
      const raw = await fetchFile(device, location, call);
      const xmlBytes = location.zipped ? unzipOne(raw, options.maxBytes ?? DEFAULT_MAX) : raw;
      return {
        url,
        urlRegister: register,
        location,
        ...(location.schemaVersion === undefined ? {} : { schemaVersion: location.schemaVersion }),
        xml: decodeXml(xmlBytes),
        zipped: location.zipped,
        raw,
      };
    } catch (e) {
      // Cancellation and a lost device end the search; anything else (bad URL, missing file, HTTP error) tries the
      // second URL register.
      if (deadline.signal.aborted) throw abortReason(deadline.signal);
      if (TimeoutError.isInstance(e) || AbortError.isInstance(e) || !(e instanceof Error)) throw e;
      errors.push(
        `0x${register.toString(16).padStart(4, '0')}${url ? ` (${clipText(url, 300)})` : ''}: ${clipText(e.message, 300)}`,
      );
    }
  }
  throw new ProtocolError(`no GenICam XML found: ${errors.join('; ')}`);
}

async function fetchFile(
  device: RegisterAccess,
  location: GenicamUrl,
  options: FetchGenicamOptions,
): Promise<Uint8Array> {
  const max = options.maxBytes ?? DEFAULT_MAX;
  switch (location.scheme) {
    case 'local':
      if (location.size > max) throw new FrameTooLargeError(location.size, max, 'GenICam file');
      return device.readMemory(location.address, location.size, options);
    case 'file':
      return readHostFile(location.path, options.allowFileUrlsIn, max, options.signal);
    case 'http':
      return fetchCapped(location.href, max, options.signal);
    default:
      throw new MalformedError(0, 'unknown GenICam URL scheme');
  }
}

/** Reads a host file a device named, only inside the allowed directories and only up to `max` bytes. */
async function readHostFile(
  path: string,
  allowed: string | readonly string[] | undefined,
  max: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const dirs = allowed === undefined ? [] : typeof allowed === 'string' ? [allowed] : allowed;
  if (dirs.length === 0) {
    throw new GenicamUrlRefusedError(
      `the device names a file on this host (File:${clipText(path, 120)}); File: URLs are refused unless ` +
        'allowFileUrlsIn names a directory (CLI: --allow-file-urls DIR)',
    );
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    throw new ProtocolError(
      `GenICam file ${clipText(path, 120)}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  const roots = await Promise.all(dirs.map((d) => realpath(resolve(d)).catch(() => undefined)));
  if (
    !roots.some(
      (root) => root !== undefined && (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)),
    )
  ) {
    throw new GenicamUrlRefusedError(
      `the device's File: URL ${clipText(path, 120)} lies outside the allowed directories (${dirs.join(', ')})`,
    );
  }
  const handle = await open(real, 'r');
  try {
    const s = await handle.stat();
    if (!s.isFile()) throw new GenicamUrlRefusedError(`GenICam file ${clipText(path, 120)} is not a regular file`);
    if (s.size > max) throw new FrameTooLargeError(s.size, max, 'GenICam file');
    // read in chunks with a running count: the stat size is only a hint (the file may grow meanwhile)
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      throwIfAborted(signal);
      const chunk = new Uint8Array(Math.min(FILE_CHUNK, max + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.byteLength, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > max) throw new FrameTooLargeError(total, max, 'GenICam file');
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/** GETs a URL a device named: the body is streamed with a running count and the request aborted at `max` bytes. */
async function fetchCapped(href: string, max: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await fetch(href, { signal: controller.signal, redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new ProtocolError(`GET ${clipText(href, 200)}: HTTP ${res.status}`, res.status);
    }
    const announced = Number(res.headers.get('content-length') ?? 0);
    if (announced > max) {
      await res.body?.cancel().catch(() => {});
      throw new FrameTooLargeError(announced, max, 'GenICam file');
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > max) {
          controller.abort(new FrameTooLargeError(total, max, 'GenICam file'));
          await reader.cancel().catch(() => {});
          throw new FrameTooLargeError(total, max, 'GenICam file (stopped reading at the limit)');
        }
        chunks.push(value);
      }
    }
    return concat(chunks, total);
  } catch (e) {
    if (signal?.aborted) throw abortReason(signal);
    if (WireError.isInstance(e)) throw e;
    throw new ProtocolError(`GET ${clipText(href, 200)} failed: ${clipText((e as Error).message ?? String(e), 200)}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Unpacks the one file of a GenICam .zip (the first .xml when there are several). Inflates as a stream with a
 * running count: stops at `maxBytes`, and a file whose inflated size differs from the size its header declares
 * (a zip that lies about its size) is a {@link MalformedError}, never silently cut.
 */
export function unzipOne(zip: Uint8Array, maxBytes = DEFAULT_MAX): Uint8Array {
  const { Unzip, UnzipInflate } = requireFflate('unpacking a zipped GenICam file');
  const files: { name: string; data: Uint8Array }[] = [];
  let failure: Error | undefined;
  // every file of the archive counts against the cap: many files of maxBytes each are no way around it
  let inflated = 0;
  let entries = 0;
  const unzipper = new Unzip((file) => {
    // each inflated entry costs its own window and buffers: a GenICam archive holds one file, a few at most
    if (!failure && ++entries > MAX_ZIP_ENTRIES) {
      failure = new MalformedError(0, `GenICam .zip holds more than ${MAX_ZIP_ENTRIES} entries`);
    }
    if (failure || file.name.endsWith('/')) return;
    const declared = file.originalSize;
    if (declared !== undefined && declared > maxBytes) {
      failure = new FrameTooLargeError(declared, maxBytes, `zipped file ${clipText(file.name, 100)}`);
      return;
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    file.ondata = (err, data, final) => {
      if (failure) return;
      if (err) {
        failure = new MalformedError(0, `GenICam .zip does not unpack: ${err.message}`);
        return;
      }
      total += data.byteLength;
      inflated += data.byteLength;
      if (inflated > maxBytes) {
        failure = new FrameTooLargeError(
          inflated,
          maxBytes,
          `unzipped GenICam archive (at ${clipText(file.name, 100)})`,
        );
        file.terminate();
        return;
      }
      if (declared !== undefined && total > declared) {
        failure = new MalformedError(
          0,
          `zipped file ${clipText(file.name, 100)} inflates past its declared ${declared} bytes`,
        );
        file.terminate();
        return;
      }
      chunks.push(data);
      if (final) {
        if (declared !== undefined && total !== declared) {
          failure = new MalformedError(
            0,
            `zipped file ${clipText(file.name, 100)} inflates to ${total} bytes, its header declares ${declared}`,
          );
          return;
        }
        files.push({ name: file.name, data: concat(chunks, total) });
      }
    };
    file.start();
  });
  unzipper.register(UnzipInflate);
  try {
    unzipper.push(zip, true);
  } catch (e) {
    if (!failure)
      failure = new MalformedError(0, `GenICam .zip does not unpack: ${clipText((e as Error).message ?? String(e))}`);
  }
  if (failure) throw WireError.isInstance(failure) ? failure : new MalformedError(0, failure.message);
  const entry = files.find((f) => /\.xml$/i.test(f.name)) ?? files[0];
  if (entry === undefined) throw new MalformedError(0, 'GenICam .zip holds no file');
  return entry.data;
}

/** XML bytes as text: UTF-8 (BOM dropped), cut at the first NUL (devices pad the stored file). */
function decodeXml(bytes: Uint8Array): string {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.byteLength;
  return new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes.subarray(0, end));
}
