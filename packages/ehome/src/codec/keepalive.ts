import type { SignalEncoding } from './charset.js';
import { MAX_SIGNAL_BYTES } from './errors.js';

// KEEPALIVE is nearly all the traffic of a platform (10,000 devices every 15 s). A datagram of exactly the
// canonical shape below is read straight from its bytes: no text decoding, no regular expression, no allocation.
// It accepts only ASCII, XML whitespace between elements, the one declaration form devices send, no BOM, no
// comments, attributes, references or CDATA, so the general path (declaration sniffing, well-formedness check,
// XML parser, field table) gives the same message for every document it accepts; anything else, however
// harmless, goes to the general path (property tests check both).
//
//   <?xml version="1.0" encoding="LABEL"[ ]?>
//   <PPVSPMessage><Version>V</Version><Sequence>N</Sequence><CommandType>REQUEST</CommandType>
//   [<Method>CONTROL</Method>]<Command>KEEPALIVE</Command><Params><DeviceID>ID</DeviceID></Params></PPVSPMessage>
//
// with any XML whitespace (space, tab, CR, LF) between the tags and after the root, V as 1-2 digits with up to two
// ".1-2 digits", N as 1-10 digits up to 2^32-1, ID as 1-64 of A-Z a-z 0-9 _ . : @ - (the DeviceID field's
// pattern), LABEL one of the labels `encodingFromLabel` knows, in any letter case.

/** What {@link scanKeepalive} found, as offsets into the datagram (so the hot path allocates nothing). */
export interface KeepaliveScan {
  encoding: SignalEncoding;
  /** `<Version>` text is `bytes[versionStart..versionEnd)`. */
  versionStart: number;
  versionEnd: number;
  sequence: number;
  /** `<DeviceID>` text is `bytes[deviceIdStart..deviceIdEnd)`. */
  deviceIdStart: number;
  deviceIdEnd: number;
}

/** A fresh, reusable {@link KeepaliveScan}. */
export function keepaliveScan(): KeepaliveScan {
  return { encoding: 'UTF-8', versionStart: 0, versionEnd: 0, sequence: 0, deviceIdStart: 0, deviceIdEnd: 0 };
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const DECL = ascii('<?xml version="1.0" encoding="');
const ROOT = ascii('<PPVSPMessage>');
const VERSION_OPEN = ascii('<Version>');
const VERSION_CLOSE = ascii('</Version>');
const SEQUENCE_OPEN = ascii('<Sequence>');
const SEQUENCE_CLOSE = ascii('</Sequence>');
const COMMAND_TYPE = ascii('<CommandType>REQUEST</CommandType>');
const METHOD = ascii('<Method>CONTROL</Method>');
const COMMAND = ascii('<Command>KEEPALIVE</Command>');
const PARAMS_OPEN = ascii('<Params>');
const DEVICE_ID_OPEN = ascii('<DeviceID>');
const DEVICE_ID_CLOSE = ascii('</DeviceID>');
const PARAMS_CLOSE = ascii('</Params>');
const ROOT_CLOSE = ascii('</PPVSPMessage>');
const U32 = 0xffffffff;

/** `encoding=` labels `encodingFromLabel` accepts, lower case, and what they mean. */
const LABELS: readonly (readonly [Uint8Array, SignalEncoding])[] = [
  [ascii('utf-8'), 'UTF-8'],
  [ascii('utf8'), 'UTF-8'],
  [ascii('gb2312'), 'GB2312'],
  [ascii('gbk'), 'GB2312'],
  [ascii('gb18030'), 'GB2312'],
  [ascii('cp936'), 'GB2312'],
  [ascii('euc-cn'), 'GB2312'],
];

// DeviceID characters (ID_PATTERN): A-Z a-z 0-9 _ . : @ -
const ID_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:@-') ID_CHAR[c.charCodeAt(0)] = 1;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function skipSpace(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && isSpace(bytes[i]!)) i++;
  return i;
}

/** Offset after `token` when it is at `i`, else -1. */
function expect(bytes: Uint8Array, i: number, end: number, token: Uint8Array): number {
  if (i < 0 || end - i < token.length) return -1;
  for (let k = 0; k < token.length; k++) if (bytes[i + k] !== token[k]) return -1;
  return i + token.length;
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

/** 1-2 digits at `i`: the offset after them, else -1. */
function versionPart(bytes: Uint8Array, i: number, end: number): number {
  if (i >= end || !isDigit(bytes[i])) return -1;
  i++;
  if (i < end && isDigit(bytes[i])) i++;
  return i;
}

function labelEncoding(bytes: Uint8Array, start: number, end: number): SignalEncoding | undefined {
  for (const [label, encoding] of LABELS) {
    if (end - start !== label.length) continue;
    let k = 0;
    while (k < label.length) {
      const b = bytes[start + k]!;
      const l = label[k]!;
      // Labels are lower case; an upper-case letter matches its lower-case form, nothing else is folded.
      if (b !== l && !(l >= 0x61 && l <= 0x7a && b === l - 0x20)) break;
      k++;
    }
    if (k === label.length) return encoding;
  }
  return undefined;
}

/**
 * Reads a KEEPALIVE request of the canonical shape (see above) straight from its bytes into `out`. Returns false,
 * leaving `out` in an unspecified state, for anything else: the caller then takes the general path
 * (`decodeMessage`), which accepts every document this accepts, with the same result, and many more.
 */
export function scanKeepalive(bytes: Uint8Array, out: KeepaliveScan): boolean {
  const end = bytes.length;
  if (end > MAX_SIGNAL_BYTES) return false;
  let i = expect(bytes, 0, end, DECL);
  if (i < 0) return false;
  const labelStart = i;
  while (i < end && i - labelStart <= 40 && bytes[i] !== 0x22) i++;
  if (i >= end || bytes[i] !== 0x22) return false;
  const encoding = labelEncoding(bytes, labelStart, i);
  if (encoding === undefined) return false;
  i++;
  if (bytes[i] === 0x20) i++;
  if (bytes[i] !== 0x3f || bytes[i + 1] !== 0x3e) return false; // ?>
  i = expect(bytes, skipSpace(bytes, i + 2, end), end, ROOT);
  i = expect(bytes, skipSpace(bytes, i, end), end, VERSION_OPEN);
  if (i < 0) return false;
  const versionStart = i;
  i = versionPart(bytes, i, end);
  for (let part = 0; part < 2 && i >= 0 && bytes[i] === 0x2e; part++) i = versionPart(bytes, i + 1, end);
  const versionEnd = i;
  i = expect(bytes, i, end, VERSION_CLOSE);
  i = expect(bytes, skipSpace(bytes, i, end), end, SEQUENCE_OPEN);
  if (i < 0) return false;
  let sequence = 0;
  const sequenceStart = i;
  while (i < end && isDigit(bytes[i]) && i - sequenceStart < 10) sequence = sequence * 10 + (bytes[i++]! - 0x30);
  if (i === sequenceStart || sequence > U32) return false;
  i = expect(bytes, i, end, SEQUENCE_CLOSE);
  i = expect(bytes, skipSpace(bytes, i, end), end, COMMAND_TYPE);
  if (i < 0) return false;
  i = skipSpace(bytes, i, end);
  const afterMethod = expect(bytes, i, end, METHOD);
  if (afterMethod >= 0) i = skipSpace(bytes, afterMethod, end);
  i = expect(bytes, i, end, COMMAND);
  i = expect(bytes, skipSpace(bytes, i, end), end, PARAMS_OPEN);
  i = expect(bytes, skipSpace(bytes, i, end), end, DEVICE_ID_OPEN);
  if (i < 0) return false;
  const deviceIdStart = i;
  while (i < end && i - deviceIdStart < 64 && bytes[i]! < 0x80 && ID_CHAR[bytes[i]!] === 1) i++;
  const deviceIdEnd = i;
  if (deviceIdEnd === deviceIdStart) return false;
  i = expect(bytes, i, end, DEVICE_ID_CLOSE);
  i = expect(bytes, skipSpace(bytes, i, end), end, PARAMS_CLOSE);
  i = expect(bytes, skipSpace(bytes, i, end), end, ROOT_CLOSE);
  if (i < 0 || skipSpace(bytes, i, end) !== end) return false;
  out.encoding = encoding;
  out.versionStart = versionStart;
  out.versionEnd = versionEnd;
  out.sequence = sequence;
  out.deviceIdStart = deviceIdStart;
  out.deviceIdEnd = deviceIdEnd;
  return true;
}

/** The ASCII text `bytes[start..end)` (the scanner only reports ASCII ranges). */
export function asciiText(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** True when `bytes[start..end)` holds exactly the characters of the ASCII string `text`. */
export function asciiEquals(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let k = 0; k < text.length; k++) if (bytes[start + k] !== text.charCodeAt(k)) return false;
  return true;
}
