import { SignalEncodingError } from './errors.js';

/** Character encodings EHome signals use: GB2312 (EHome 2.0 devices) and UTF-8 (EHome 4.0, the seed's default). */
export const SignalEncodings = { UTF8: 'UTF-8', GB2312: 'GB2312' } as const;
export type SignalEncoding = (typeof SignalEncodings)[keyof typeof SignalEncodings];

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const utf8Encoder = new TextEncoder();
// Bytes as code points 0-255 (WHATWG latin1 is windows-1252, identical for the ASCII a declaration is made of).
const latin1Decoder = new TextDecoder('latin1');
// Only the start of a document may hold the declaration; 200 bytes is plenty and bounds the scan. Spaces inside
// the label are allowed (a public EHome 4.0 demo client declares `encoding="UTF - 8"`) and removed before lookup.
const DECLARATION = /^(?:\uFEFF)?\s*<\?xml\s[^?>]*?\bencoding\s*=\s*(["'])([A-Za-z0-9._ -]{1,40})\1/;

/**
 * Maps an XML `encoding=` label to the encoding we decode with; GBK and GB18030 are supersets of GB2312. Spaces are
 * ignored (`UTF - 8` is UTF-8), as devices and demo clients write them.
 */
export function encodingFromLabel(label: string): SignalEncoding | undefined {
  switch (label.replace(/ /g, '').toLowerCase()) {
    case 'utf-8':
    case 'utf8':
      return 'UTF-8';
    case 'gb2312':
    case 'gbk':
    case 'gb18030':
    case 'cp936':
    case 'euc-cn':
      return 'GB2312';
    default:
      return undefined;
  }
}

/**
 * Reads the encoding a signal declares in `<?xml ... encoding="X"?>`. No declaration means UTF-8 (XML's default
 * and the seed's "XML (UTF-8编码)"). The declaration is ASCII in every encoding we accept, so it is read as bytes.
 */
export function sniffEncoding(bytes: Uint8Array): SignalEncoding {
  const window = bytes.subarray(0, 200);
  const end = window.indexOf(0x3e);
  let head = latin1Decoder.decode(end < 0 ? window : window.subarray(0, end + 1));
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) head = head.slice(3); // UTF-8 BOM
  const m = DECLARATION.exec(head);
  if (!m) return 'UTF-8';
  const label = m[2]!.trim();
  const enc = encodingFromLabel(label);
  if (!enc) throw new SignalEncodingError(label, `unsupported XML encoding ${JSON.stringify(label)} (UTF-8 or GB2312)`);
  return enc;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

function isAsciiText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

// GB2312 text goes through the platform's WHATWG Encoding Standard decoder ('gbk', which GB2312/GBK/GB18030
// labels share for two-byte text): it exists in every browser and in Node builds with full ICU (Node's official and
// Debian's builds). The Encoding Standard defines no GBK encoder in TextEncoder, so the encoder is the exact inverse
// of that decoder's table, built once on first use from the 23,940 two-byte codes (lead 0x81-0xFE, trail 0x40-0xFE
// but 0x7F): no dependency, no Buffer, identical in Node and browsers. iconv-lite (used before) needs Node's Buffer.
let gbkDecoder: InstanceType<typeof TextDecoder> | undefined;
let gbkEncoderTable: Map<number, number> | undefined;

function gbk(): InstanceType<typeof TextDecoder> {
  gbkDecoder ??= new TextDecoder('gbk', { fatal: true });
  return gbkDecoder;
}

/** Code point -> two-byte GBK code (lead << 8 | trail), the inverse of the platform's decoder. */
function gbkTable(): Map<number, number> {
  if (gbkEncoderTable) return gbkEncoderTable;
  const table = new Map<number, number>();
  const decoder = new TextDecoder('gbk');
  const pair = new Uint8Array(2);
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      pair[0] = lead;
      pair[1] = trail;
      const text = decoder.decode(pair);
      if (text.length === 0 || text === '\uFFFD' || text.length > 2) continue;
      const cp = text.codePointAt(0)!;
      // The first code wins, as in the Encoding Standard's "index pointer" (lowest pointer for a code point).
      if (cp !== 0xfffd && !table.has(cp)) table.set(cp, (lead << 8) | trail);
    }
  }
  gbkEncoderTable = table;
  return table;
}

/** GBK bytes of `text`, or the index of the first character GBK cannot represent. */
function encodeGbk(text: string): Uint8Array | number {
  const table = gbkTable();
  const out = new Uint8Array(text.length * 2);
  let n = 0;
  let i = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out[n++] = cp;
    else {
      const code = table.get(cp);
      if (code === undefined) return i;
      out[n++] = code >>> 8;
      out[n++] = code & 0xff;
    }
    i += ch.length;
  }
  return out.subarray(0, n);
}

/** Decodes signal bytes in `encoding`; invalid byte sequences are a {@link SignalEncodingError}, never U+FFFD. */
export function decodeSignalText(bytes: Uint8Array, encoding: SignalEncoding): string {
  if (encoding === 'UTF-8') {
    try {
      return utf8Decoder.decode(bytes);
    } catch {
      throw new SignalEncodingError('UTF-8', 'invalid UTF-8 byte sequence');
    }
  }
  if (isAscii(bytes)) return utf8Decoder.decode(bytes); // ASCII is the same in GB2312; skips the table on the hot path
  let text: string;
  try {
    text = gbk().decode(bytes);
  } catch {
    throw new SignalEncodingError('GB2312', 'invalid GB2312 byte sequence');
  }
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) throw new SignalEncodingError('GB2312', `invalid GB2312 byte sequence near character ${bad}`);
  return text;
}

/** Encodes text in `encoding`; a character GB2312 (GBK) cannot represent is refused rather than replaced by `?`. */
export function encodeSignalText(text: string, encoding: SignalEncoding): Uint8Array {
  if (encoding === 'UTF-8' || isAsciiText(text)) return utf8Encoder.encode(text);
  const bytes = encodeGbk(text);
  if (typeof bytes === 'number') {
    throw new SignalEncodingError('GB2312', `text holds characters GB2312 cannot represent (at character ${bytes})`);
  }
  return bytes;
}

/** True when every character of `text` survives a GB2312 round trip (used to choose an encoding). */
export function canEncodeGb2312(text: string): boolean {
  return isAsciiText(text) || typeof encodeGbk(text) !== 'number';
}
