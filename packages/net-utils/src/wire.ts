/**
 * `@cam/net-utils/wire`: the pure wire layer. Everything here imports no `node:` module, performs no I/O and
 * runs unchanged in a browser, a worker or Node: the byte reader/writer, the typed wire errors, the TCP length
 * framer (fed chunks by whatever transport), AbortSignal/timeout helpers, backoff, IPv4 arithmetic and the one
 * hardened XML reader (xml.ts). Every protocol package's `./codec` entry imports only this and other codecs.
 * The package's main entry (`@cam/net-utils`) re-exports all of it plus the Node socket helpers.
 */
export {
  abortReason,
  type CallOptions,
  type DeadlineSignal,
  deadlineSignal,
  raceSignal,
  sleep,
  throwIfAborted,
} from './abort.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { PerSecondBudget } from './budget.js';
export {
  type ByteOrderOptions,
  ByteReader,
  ByteWriter,
  bytesToMac,
  copyBytes,
  type FixedStringEncoding,
  fromHex,
  ipv4ToU32,
  isIpv4,
  macFromHighLow,
  macToBytes,
  macToHighLow,
  toHex,
  u32ToIpv4,
} from './bytes.js';
export {
  AbortError,
  BufferTooSmallError,
  type CamErrorOptions,
  clipText,
  FrameTooLargeError,
  MAX_ERROR_MESSAGE_LENGTH,
  MalformedError,
  PortPoolExhaustedError,
  ProtocolError,
  TimeoutError,
  TrailingBytesError,
  TruncatedError,
  ValueOutOfRangeError,
  WireError,
} from './errors.js';
export { LengthFramer, type LengthFramingOptions } from './framer.js';
export { directedBroadcast, isLoopback, netmaskFromPrefix, networkAddress, prefixLength, sameSubnet } from './ipv4.js';
export {
  elementText,
  findElement,
  ownText,
  readXmlDocument,
  readXmlFragment,
  unescapeXml,
  XML_DEFAULTS,
  XmlDeclarationError,
  type XmlElement,
  XmlEntityRefError,
  type XmlReadOptions,
} from './xml.js';
