import { MAX_SIGNAL_BYTES } from './errors.js';

/**
 * Why a datagram is not even shaped like an EHome signal (the result of {@link implausibleSignal}):
 * `size` (empty, shorter than the smallest signal or longer than {@link MAX_SIGNAL_BYTES}), `start` (after an
 * optional UTF-8 BOM and whitespace it does not begin with `<?` (the XML declaration or another processing
 * instruction), `<!--` or `<PPVSPMessage`), `end` (after trailing
 * whitespace and NUL padding it does not end with `</PPVSPMessage>`, or with `-->` or `?>` of a trailing comment or
 * processing instruction).
 */
export type ImplausibleReason = 'size' | 'start' | 'end';

/** The shortest signal there can be: `<PPVSPMessage></PPVSPMessage>`. */
export const MIN_SIGNAL_BYTES = 29;
const PI = [0x3c, 0x3f]; // <? (the XML declaration, or any processing instruction the reader skips)
const COMMENT = [0x3c, 0x21, 0x2d, 0x2d]; // <!--
const ROOT_OPEN = [0x3c, 0x50, 0x50, 0x56, 0x53, 0x50, 0x4d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65]; // <PPVSPMessage
// </PPVSPMessage>
const ROOT_CLOSE = [0x3c, 0x2f, 0x50, 0x50, 0x56, 0x53, 0x50, 0x4d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x3e];
const COMMENT_END = [0x2d, 0x2d, 0x3e]; // -->
const PI_END = [0x3f, 0x3e]; // ?>

const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

function startsWith(bytes: Uint8Array, at: number, prefix: readonly number[]): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * A cheap byte check run before the XML parser on every datagram of the register and alarm ports: at most
 * the head and tail up to their whitespace are looked at, nothing is allocated. Returns why the datagram cannot be a signal,
 * or `undefined` when it may be one (it may still fail to decode). Every signal of the protocol is one
 * `<PPVSPMessage>` document (optionally after an XML declaration) in UTF-8 or GB2312, both ASCII-compatible for
 * the markup, so this refuses no signal `decodeMessage` would accept.
 */
export function implausibleSignal(bytes: Uint8Array): ImplausibleReason | undefined {
  const n = bytes.length;
  if (n < MIN_SIGNAL_BYTES || n > MAX_SIGNAL_BYTES) return 'size';
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  // the whitespace scans are bounded by the size check above (any amount of it is what the XML reader accepts)
  while (start < n && isSpace(bytes[start]!)) start++;
  if (!startsWith(bytes, start, PI) && !startsWith(bytes, start, ROOT_OPEN) && !startsWith(bytes, start, COMMENT))
    return 'start';
  let end = n;
  while (end > start && (isSpace(bytes[end - 1]!) || bytes[end - 1] === 0)) end--;
  // a comment or processing instruction after the root is the XML reader's to judge
  const tail = (suffix: readonly number[]): boolean =>
    end - suffix.length >= start && startsWith(bytes, end - suffix.length, suffix);
  if (!tail(ROOT_CLOSE) && !tail(COMMENT_END) && !tail(PI_END)) return 'end';
  return undefined;
}
