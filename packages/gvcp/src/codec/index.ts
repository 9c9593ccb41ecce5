export * from './constants.js';
// readDeviceInfo / writeDeviceInfo are the discovery ack's internals (cursor-based); the public API is below.
export { DEVICE_INFO_SIZE, type DeviceInfo, decodeDeviceInfo, encodeDeviceInfo } from './device-info.js';
export * from './messages.js';
export * from './pixel-format.js';
export * from './registers.js';
export * from './url.js';
