// The device side of media: what a simulated camera sends (shipped clips or a test pattern) and the pusher that
// connects to the platform's media port.
export {
  CLIP_FPS,
  type Clip,
  type ClipFrame,
  clipFrameAt,
  clipPsBytes,
  loadClip,
  scenePicture,
} from './clips.js';
export {
  ClipSource,
  EhomeDeviceMedia,
  type EhomeDeviceMediaOptions,
  type ReceivedMediaCommand,
  RecordingSource,
} from './device-media.js';
export {
  type GeneratedAccessUnit,
  type H264GeneratorOptions,
  H264TestPatternGenerator,
} from './h264-generator.js';
export { type AccessUnitSource, MediaPusher, type MediaPusherOptions } from './pusher.js';
