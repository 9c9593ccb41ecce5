export { type CapturedPicture, DeviceHandle, type DevicePort, type MediaContext } from './device-handle.js';
export { DeviceOfflineError, DeviceStatusError } from './errors.js';
export {
  type AlarmParams,
  type EhomeEvent,
  type EhomeEventOf,
  type EhomeEventType,
  type EhomeServerEvents,
  EventQueue,
  type StoredMedia,
} from './events.js';
export { MediaLinker } from './linker.js';
export { PICTURE_UPLOAD_PATH, PictureServer, type PictureServerOptions, VIDEO_UPLOAD_PATH } from './picture-server.js';
export { PlatformRecorder } from './recorder.js';
export { type DeviceRegistry, type DeviceSession, MemoryDeviceRegistry } from './registry.js';
export {
  ALARM_SERVER_TYPE_UDP,
  DEFAULT_ALARM_PORT,
  DEFAULT_REGISTER_PORT,
  EhomeServer,
  type EhomeServerOptions,
  type EhomeServerStats,
  PICTURE_SERVER_TYPE_HTTP,
  platformVersion,
} from './server.js';
