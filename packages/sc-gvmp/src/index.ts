export { attachToGvcpDevice, gvcpRegisterHost } from './adapters/gvcp.js';
export {
  DEFAULT_MAX_PAYLOAD_LENGTH,
  ErrorCode,
  ErrorCodeGvcpStatus,
  type ErrorCodeName,
  type ErrorCodeValue,
  errorCodeName,
  FrameFlag,
  GvcpStatus,
  type GvcpStatusName,
  type GvcpStatusValue,
  HeaderOffset,
  isPayloadKind,
  isStreamState,
  MAX_PAYLOAD_LENGTH_LIMIT,
  PayloadKind,
  type PayloadKindCode,
  type PayloadKindName,
  payloadKindName,
  SC_GVMP_HEADER_SIZE,
  SC_GVMP_MAGIC,
  SC_GVMP_VERSION,
  StreamState,
  type StreamStateCode,
  type StreamStateName,
  streamStateName,
} from './codec/constants.js';
export { createFrameFramer, type FrameFramerOptions, frameFromFramed, ScGvmpFrameDecoder } from './codec/decoder.js';
export {
  BadMagicError,
  NoRouteToCameraError,
  ScGvmpDeviceError,
  ScGvmpRegisterWriteError,
  SlowFrameError,
  UnknownPayloadKindError,
  UnsupportedVersionError,
} from './codec/errors.js';
export {
  checkMaxPayloadLength,
  decodeFrame,
  decodeFrameHeader,
  encodedLengthFrame,
  encodeFrame,
  encodeFrameHeader,
  encodeFrameHeaderInto,
  encodeFrameInto,
  type FrameDecodeOptions,
  type FrameHeader,
  type FrameInit,
  frameFlags,
  payloadKindCode,
  type ScGvmpFrame,
  validateFrameHeader,
} from './codec/frame.js';
export { encodeFlatJpeg, type FlatJpegOptions } from './codec/jpeg.js';
export {
  DEFAULT_REGISTER_MAP,
  mcdaAddress,
  mcdaValue,
  mcpValue,
  registerMapAt,
  resolveRegisterMap,
  SC_GVMP_REGISTER_BASE,
  type ScGvmpRegisterMap,
} from './codec/registers.js';
export {
  TEST_PATTERN_HEIGHT,
  TEST_PATTERN_WIDTH,
  type TestPatternOptions,
  testPatternJpeg,
  testPatternRaw,
  testPatternValue,
} from './codec/test-pattern.js';
export {
  type ConnectTarget,
  type DeviceStateChange,
  ScGvmpDevice,
  type ScGvmpDeviceEvents,
  type ScGvmpDeviceOptions,
  type ScGvmpDeviceStats,
} from './device/device.js';
export type { RegisterRequestContext, ScGvmpRegisterHandler, ScGvmpRegisterHost } from './device/register-host.js';
export { type FrameSource, framesSource, type SourceFrame, testPatternSource } from './device/source.js';
export { FramePool, type FramePoolOptions, type FramePoolStats, frameBufferClass } from './transport/frame-pool.js';
export {
  type ReceivedFrame,
  ScGvmpStream,
  type ScGvmpStreamEvents,
  type ScGvmpStreamStats,
  type StartStreamOptions,
  type StreamStateChange,
  startStream,
} from './transport/host.js';
export {
  type ScGvmpCamera,
  type ScGvmpCameraLike,
  type ScGvmpRegisterAccess,
  toCamera,
} from './transport/register-access.js';
