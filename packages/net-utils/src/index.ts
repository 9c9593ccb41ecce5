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
export {
  directedBroadcast,
  type Ipv4Interface,
  interfaceFor,
  isLoopback,
  listIpv4Interfaces,
  netmaskFromPrefix,
  networkAddress,
  prefixLength,
  sameSubnet,
} from './net.js';
export { type AcquireOptions, type PortLease, PortPool, type PortPoolOptions } from './port-pool.js';
export { type ReadFramesOptions, readFrames } from './stream.js';
export { readIntoUserBuffer, type UserBufferReads } from './user-buffer.js';
