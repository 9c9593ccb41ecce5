export {
  EhomeDevice,
  type EhomeDeviceEvents,
  type EhomeDeviceOptions,
  type EhomeDeviceStats,
  type MediaAnswer,
  type MediaHandler,
} from './device.js';
export { syntheticJpeg } from './jpeg.js';
export { querySimulated, type SimulatedRecording, simulatedRecordingIndex } from './recordings.js';
