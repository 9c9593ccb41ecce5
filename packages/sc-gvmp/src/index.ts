// The pure SC_GVMP codec (also `@cam/sc-gvmp/codec`), then the device, host and GVCP adapters.

export { attachToGvcpDevice, gvcpRegisterHost } from './adapters/gvcp.js';
export * from './codec/index.js';
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
