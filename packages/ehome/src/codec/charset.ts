import iconv from 'iconv-lite';
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

/** Decodes signal bytes in `encoding`; invalid byte sequences are a {@link SignalEncodingError}, never U+FFFD. */
export function decodeSignalText(bytes: Uint8Array, encoding: SignalEncoding): string {
  if (encoding === 'UTF-8') {
    try {
      return utf8Decoder.decode(bytes);
    } catch {
      throw new SignalEncodingError('UTF-8', 'invalid UTF-8 byte sequence');
    }
  }
  if (isAscii(bytes)) return utf8Decoder.decode(bytes); // ASCII is the same in GB2312; skips iconv on the hot path
  const text = iconv.decode(bytes, 'gb2312');
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) throw new SignalEncodingError('GB2312', `invalid GB2312 byte sequence near character ${bad}`);
  return text;
}

/** Encodes text in `encoding`; a character GB2312 (GBK) cannot represent is refused rather than replaced by `?`. */
export function encodeSignalText(text: string, encoding: SignalEncoding): Uint8Array {
  if (encoding === 'UTF-8' || isAsciiText(text)) return utf8Encoder.encode(text);
  const bytes = iconv.encode(text, 'gb2312');
  if (iconv.decode(bytes, 'gb2312') !== text) {
    throw new SignalEncodingError('GB2312', 'text holds characters GB2312 cannot represent');
  }
  return bytes;
}

/** True when every character of `text` survives a GB2312 round trip (used to choose an encoding). */
export function canEncodeGb2312(text: string): boolean {
  return iconv.decode(iconv.encode(text, 'gb2312'), 'gb2312') === text;
}
