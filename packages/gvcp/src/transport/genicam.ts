import { readFile, stat } from 'node:fs/promises';
import { AbortError, FrameTooLargeError, MalformedError, ProtocolError, TimeoutError, WireError } from '@cam/net-utils';
import { unzipSync } from 'fflate';
import {
  BootstrapRegister,
  BootstrapStringSize,
  type GenicamUrl,
  parseGenicamUrl,
  urlFromRegister,
} from '../codec/index.js';
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
  /** Largest file (stored and unpacked) accepted, in bytes (default 32 MiB). */
  maxBytes?: number;
}

const DEFAULT_MAX = 32 * 1024 * 1024;

/**
 * Downloads the device's GenICam XML: reads the first URL register (0x0200), falling back to the second (0x0400)
 * when the first is empty, unparseable or its file cannot be fetched; follows `Local:` (READMEM), `File:` (host
 * file) and `http(s):` URLs; unpacks `.zip` with fflate.
 */
export async function fetchGenicamXml(device: RegisterAccess, options: FetchGenicamOptions = {}): Promise<GenicamFile> {
  const errors: string[] = [];
  for (const register of [BootstrapRegister.FIRST_URL, BootstrapRegister.SECOND_URL]) {
    let url = '';
    try {
      url = urlFromRegister(await device.readMemory(register, BootstrapStringSize.FIRST_URL, options));
      if (url === '') throw new MalformedError(0, 'URL register is empty');
      const location = parseGenicamUrl(url);
      const raw = await fetchFile(device, location, options);
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
      if (options.signal?.aborted || TimeoutError.isInstance(e) || AbortError.isInstance(e) || !(e instanceof Error))
        throw e;
      errors.push(`0x${register.toString(16).padStart(4, '0')}${url ? ` (${url})` : ''}: ${(e as Error).message}`);
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
    case 'file': {
      const s = await stat(location.path);
      if (s.size > max) throw new FrameTooLargeError(s.size, max, 'GenICam file');
      return new Uint8Array(await readFile(location.path, options.signal ? { signal: options.signal } : {}));
    }
    case 'http': {
      const res = await fetch(location.href, {
        signal: options.signal ?? AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      if (!res.ok) throw new ProtocolError(`GET ${location.href}: HTTP ${res.status}`, res.status);
      const len = Number(res.headers.get('content-length') ?? 0);
      if (len > max) throw new FrameTooLargeError(len, max, 'GenICam file');
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.byteLength > max) throw new FrameTooLargeError(body.byteLength, max, 'GenICam file');
      return body;
    }
    default:
      throw new MalformedError(0, 'unknown GenICam URL scheme');
  }
}

/** Unpacks the one file of a GenICam .zip (the first .xml when there are several). */
export function unzipOne(zip: Uint8Array, maxBytes = DEFAULT_MAX): Uint8Array {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        if (f.originalSize > maxBytes) throw new FrameTooLargeError(f.originalSize, maxBytes, `zipped file ${f.name}`);
        return !f.name.endsWith('/');
      },
    });
  } catch (e) {
    if (WireError.isInstance(e)) throw e;
    throw new MalformedError(0, `GenICam .zip does not unpack: ${(e as Error).message}`);
  }
  const names = Object.keys(files);
  const name = names.find((n) => /\.xml$/i.test(n)) ?? names[0];
  const data = name === undefined ? undefined : files[name];
  if (data === undefined) throw new MalformedError(0, 'GenICam .zip holds no file');
  if (data.byteLength > maxBytes) throw new FrameTooLargeError(data.byteLength, maxBytes, 'unzipped GenICam file');
  return data;
}

/** XML bytes as text: UTF-8 (BOM dropped), cut at the first NUL (devices pad the stored file). */
function decodeXml(bytes: Uint8Array): string {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.byteLength;
  return new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes.subarray(0, end));
}
