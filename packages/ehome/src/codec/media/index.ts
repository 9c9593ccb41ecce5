// The pure media codec: bytes in, bytes out, no I/O and no node: imports (it bundles for a browser).
export { BitWriter, crc32Mpeg2 } from './bits.js';
export {
  annexBToAvcc,
  avcCodecString,
  encodeAvcC,
  encodedLengthFmp4Fragment,
  encodeFmp4Fragment,
  encodeFmp4Init,
  type Fmp4AccessUnit,
  Fmp4Muxer,
  type Fmp4MuxerOptions,
  type Fmp4MuxerStats,
  type Fmp4Sample,
  type Fmp4VideoTrack,
  SAMPLE_FLAGS_NON_SYNC,
  SAMPLE_FLAGS_SYNC,
} from './fmp4.js';
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
export { escapeRbsp, h264NalType, h265NalType, isKeyframe, nalUnits, unescapeRbsp } from './h26x.js';
export { type H264SpsInfo, parseH264Sps } from './h264-sps.js';
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
export { speedFromWire, speedToWire } from './speed.js';
