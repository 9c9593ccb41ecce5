export * from '../codec/media/index.js';
export {
  EhomeDeviceMedia,
  type EhomeDeviceMediaOptions,
  type ReceivedMediaCommand,
  RecordingSource,
} from './device-media.js';
export {
  INTERLEAVED_MAGIC,
  type MediaEvent,
  type MediaFraming,
  MediaStreamDecoder,
  type MediaStreamDecoderOptions,
  MediaStreamEncoder,
  type MediaStreamEncoderOptions,
  type MediaStreamStats,
  PRIVATE_HEADER_MAGIC,
  PRIVATE_HEADER_SIZE,
  STRAY_BYTE,
} from './framing.js';
export {
  type GeneratedAccessUnit,
  type H264GeneratorOptions,
  H264TestPatternGenerator,
} from './h264-generator.js';
export {
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  downloadRecording,
  EhomeStreamSession,
  ehomeTime,
  type MediaControlChannel,
  openPlayback,
  openPreview,
  type PlaybackOptions,
  type PreviewOptions,
  speedFromWire,
  speedToWire,
} from './platform.js';
export {
  type AccessUnit,
  muxPs,
  PS_MAX_UNIT_SIZE,
  PsDemuxer,
  type PsDemuxerOptions,
  type PsMuxInput,
  PsStreamType,
  type VideoCodec,
} from './ps.js';
export { type AccessUnitSource, MediaPusher, type MediaPusherOptions } from './pusher.js';
export {
  decodeRtp,
  encodedLengthRtp,
  encodeRtp,
  encodeRtpInto,
  RTP_PAYLOAD_TYPE_PS,
  RTP_VERSION,
  RTP_VIDEO_CLOCK_RATE,
  type RtpPacket,
  type RtpPacketInit,
  RtpSequenceTracker,
} from './rtp.js';
export { MediaSink, type MediaSinkEvents, type MediaSinkOptions } from './sink.js';
