export {
  AcquisitionControl,
  type AcquisitionHooks,
  AcquisitionMode,
  type AcquisitionModeName,
  type AcquisitionRegisters,
  type AcquisitionStats,
  type AcquisitionStopReason,
  type FrameTrigger,
  TriggerActivation,
  type TriggerActivationName,
  TriggerSelector,
  type TriggerSelectorName,
  TriggerSource,
  type TriggerSourceName,
} from './acquisition.js';
export {
  type ActionSignal,
  type ControlChangeReason,
  type DeviceEvent,
  type EventDelivery,
  GENICAM_FILE_ADDRESS,
  GvcpDevice,
  type GvcpDeviceEvents,
  type GvcpDeviceOptions,
  type GvcpDeviceStats,
  type IpConfig,
} from './device.js';
export { GvcpDeviceStatusError, statusOf } from './errors.js';
export {
  EventControl,
  type EventRegisters,
  EventSelector,
  FRAME_EVENT_DATA_LENGTH,
  type FrameEvent,
  FrameEventId,
  type FrameEventName,
  frameEventData,
} from './event-control.js';
export { ForceIpHookError, type IpRouteForceIpHookOptions, ipRouteForceIpHook } from './forceip-linux.js';
export {
  buildGenicamXml,
  CHUNK_DATA_LENGTH,
  ChunkId,
  type ChunkName,
  ChunkSelector,
  FeatureRegister,
  type GenicamXmlOptions,
  SimulatedPixelFormat,
  type SimulatedPixelFormatName,
  TEST_EVENT_ID,
} from './genicam.js';
export { derivedMac, derivedSerialNumber } from './identity.js';
export {
  type Application,
  type CcpWriteResult,
  ControlChannel,
  type PrimaryApplication,
  type PrivilegeLevel,
} from './privilege.js';
export {
  type AccessContext,
  type BlockDefinition,
  MAX_BLOCK_LENGTH,
  PartialWriteError,
  type RegisterAccessMode,
  type RegisterDefinition,
  type RegisterInfo,
  RegisterSpace,
  type WriteListener,
} from './registers.js';
export { type CachedExchange, RetransmitCache } from './retransmit-cache.js';
export { type UserSetName, type UserSetRegisters, UserSetSelector, UserSets } from './user-sets.js';
