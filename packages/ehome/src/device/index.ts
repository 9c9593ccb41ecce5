// The device role: a simulated EHome camera (signalling session, command answers, recordings, media).
export type { PtzState } from './commands.js';
export { EhomeDevice } from './device.js';
export * from './media/index.js';
export type {
  EhomeDeviceEvents,
  EhomeDeviceOptions,
  EhomeDeviceStats,
  MediaAnswer,
  MediaHandler,
  SimulatedDeviceView,
} from './options.js';
export {
  findSimulatedRecording,
  MAX_QUERY_DAYS,
  querySimulated,
  type RecordingSizer,
  type SimulatedRecording,
  simulatedRecordingIndex,
  simulatedRecordingsBetween,
} from './recordings.js';
export type { GpsFix } from './signals.js';
