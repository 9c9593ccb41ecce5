import { MalformedError, ValueOutOfRangeError } from '@cam/net-utils/wire';

interface GenicamUrlBase {
  /** The URL as read from the register (NULs and surrounding blanks removed). */
  url: string;
  /** `x.y.z` from `?SchemaVersion=x.y.z`, when given. */
  schemaVersion?: string;
  /** True when the file is a `.zip` archive holding the XML. */
  zipped: boolean;
}

/** `Local:name.xml;ADDR;SIZE`: the XML lives in device memory, read it with READMEM. */
export interface LocalGenicamUrl extends GenicamUrlBase {
  scheme: 'local';
  fileName: string;
  address: number;
  size: number;
}

/** `File:///path/name.xml`: the XML is a file on the host. */
export interface FileGenicamUrl extends GenicamUrlBase {
  scheme: 'file';
  path: string;
}

/** `http://host/name.xml` (or https): the XML is on a web server. */
export interface HttpGenicamUrl extends GenicamUrlBase {
  scheme: 'http';
  /** The URL without the `?SchemaVersion=` query. */
  href: string;
}

/** A parsed GenICam XML location (first or second URL register). */
export type GenicamUrl = LocalGenicamUrl | FileGenicamUrl | HttpGenicamUrl;

const HEX_RE = /^(?:0x)?([0-9a-f]+)$/i;

function parseHex(text: string, what: string, url: string, at: number): number {
  const m = HEX_RE.exec(text.trim());
  if (!m?.[1] || m[1].length > 8) {
    throw new MalformedError(at, `${what} "${text}" in GenICam URL "${url}" is not a 32-bit hex number`);
  }
  return Number.parseInt(m[1], 16);
}

/** The string held in a URL register: up to the first NUL, blanks trimmed. */
export function urlFromRegister(bytes: Uint8Array): string {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.byteLength;
  return new TextDecoder('utf-8').decode(bytes.subarray(0, end)).trim();
}

/**
 * Parses a GenICam URL: `Local:name.xml;ADDR;SIZE`, `Local:///name.zip;0xADDR;0xSIZE?SchemaVersion=1.1.0`,
 * `File:///path/x.xml`, `http(s)://host/x.zip`. Addresses and sizes are hex with or without `0x`. Throws
 * {@link MalformedError} for anything else.
 */
export function parseGenicamUrl(input: string): GenicamUrl {
  const url = input.replace(/\0+$/, '').trim();
  if (url.length === 0) throw new MalformedError(0, 'empty GenICam URL');
  let body = url;
  let schemaVersion: string | undefined;
  const q = url.indexOf('?');
  if (q >= 0) {
    const query = url.slice(q + 1);
    body = url.slice(0, q);
    for (const part of query.split('&')) {
      const [k, v] = part.split('=');
      if (k?.toLowerCase() === 'schemaversion' && v !== undefined) {
        if (!/^\d+(\.\d+){0,2}$/.test(v)) throw new MalformedError(q, `schema version "${v}" in "${url}" is not x.y.z`);
        schemaVersion = v;
      }
    }
  }
  const colon = body.indexOf(':');
  if (colon <= 0) throw new MalformedError(0, `GenICam URL "${url}" has no scheme (Local:, File: or http:)`);
  const scheme = body.slice(0, colon).toLowerCase();
  const rest = body.slice(colon + 1);
  const extra = schemaVersion === undefined ? {} : { schemaVersion };
  if (scheme === 'local') {
    const parts = rest.split(';');
    if (parts.length !== 3) {
      throw new MalformedError(colon + 1, `GenICam URL "${url}" is not Local:name;address;size`);
    }
    const fileName = (parts[0] ?? '').replace(/^\/+/, '');
    if (fileName.length === 0) throw new MalformedError(colon + 1, `GenICam URL "${url}" has no file name`);
    const address = parseHex(parts[1] ?? '', 'address', url, colon + 2 + (parts[0]?.length ?? 0));
    const size = parseHex(parts[2] ?? '', 'size', url, colon + 3 + (parts[0]?.length ?? 0) + (parts[1]?.length ?? 0));
    if (size === 0) throw new MalformedError(colon, `GenICam URL "${url}" announces an empty file`);
    if (address + size > 0x1_0000_0000)
      throw new MalformedError(colon, `GenICam URL "${url}" runs past the 32-bit address space`);
    return { scheme: 'local', url, fileName, address, size, zipped: isZip(fileName), ...extra };
  }
  if (scheme === 'file') {
    let path: string;
    try {
      path = decodeURIComponent(rest);
    } catch {
      throw new MalformedError(colon + 1, `GenICam URL "${url}" has a bad %-escape`);
    }
    if (path.startsWith('///')) path = path.slice(2);
    else if (path.startsWith('//')) path = path.slice(path.indexOf('/', 2) >= 0 ? path.indexOf('/', 2) : path.length);
    if (path.length === 0) throw new MalformedError(colon + 1, `GenICam URL "${url}" has no path`);
    return { scheme: 'file', url, path, zipped: isZip(path), ...extra };
  }
  if (scheme === 'http' || scheme === 'https') {
    if (!rest.startsWith('//') || rest.length <= 2)
      throw new MalformedError(colon + 1, `GenICam URL "${url}" has no host`);
    return { scheme: 'http', url, href: body, zipped: isZip(body), ...extra };
  }
  throw new MalformedError(0, `GenICam URL scheme "${scheme}" is not Local, File or http(s)`);
}

function isZip(name: string): boolean {
  return /\.zip$/i.test(name);
}

/** Formats a `Local:` URL as a device stores it: `Local:name;ADDR;SIZE[?SchemaVersion=x.y.z]` (hex, no 0x). */
export function formatLocalGenicamUrl(options: {
  fileName: string;
  address: number;
  size: number;
  schemaVersion?: string;
}): string {
  const { fileName, address, size, schemaVersion } = options;
  if (!/^[^;?\0]+$/.test(fileName))
    throw new ValueOutOfRangeError('fileName', `"${fileName}" may not contain ; ? or NUL`);
  for (const [k, v] of [
    ['address', address],
    ['size', size],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ValueOutOfRangeError(k, `${v} is not a u32`);
  }
  const q = schemaVersion === undefined ? '' : `?SchemaVersion=${schemaVersion}`;
  return `Local:${fileName};${address.toString(16)};${size.toString(16)}${q}`;
}
