export {
  EhomeDevice,
  type EhomeDeviceEvents,
  type EhomeDeviceOptions,
  type EhomeDeviceStats,
  type MediaAnswer,
  type MediaHandler,
} from './device.js';
export * from './media/index.js';
export {
  findSimulatedRecording,
  MAX_QUERY_DAYS,
  querySimulated,
  type RecordingSizer,
  type SimulatedRecording,
  simulatedRecordingIndex,
  simulatedRecordingsBetween,
} from './recordings.js';
