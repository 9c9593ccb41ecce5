export * from './codec/index.js';
export { ControllerModel, type ControllerState } from './device/controller.js';
export {
  type ReceivedFile,
  SdkDevice,
  type SdkDeviceOptions,
  type SdkDeviceStats,
} from './device/device.js';
export type { SdkMethodHandler, SdkMethodRequest, SdkMethodResult } from './device/method.js';
export { BUILTIN_FONTS, frameSvg } from './device/render.js';
export {
  type ReadFileResult,
  type ReadProgress,
  type SdkCallResult,
  SdkClient,
  type SdkClientOptions,
  type SearchAnswer,
  type SearchOptions,
  type UploadOptions,
  type UploadProgress,
  type UploadResult,
} from './transport/client.js';
export { Md5Cache, md5Bytes, md5File, packFileContent } from './transport/files.js';
export {
  type DeviceFile,
  type DeviceInfo,
  type FontInfo,
  LedClient,
  type Luminance,
  type NetworkInfo,
  refusalReason,
  type SendProgramOptions,
  type SendProgramProgress,
  type TimeInfo,
} from './transport/led-client.js';
