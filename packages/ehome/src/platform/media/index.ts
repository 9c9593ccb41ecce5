// The platform side of media: the sink that takes a device's media connection, the stream sessions (preview,
// playback, download) and the HTTP body formats.
export { MediaSink, type MediaSinkEvents, type MediaSinkOptions } from './sink.js';
export { STREAM_CONTENT_TYPES, STREAM_FORMATS, StreamBodyEncoder, type StreamFormat } from './stream-body.js';
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
} from './stream-session.js';
