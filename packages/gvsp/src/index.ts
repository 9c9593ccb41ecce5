export * from './codec/index.js';
export {
  type AttachStreamingOptions,
  attachGvspStreaming,
  type DeviceResendRequest,
  type GvspStreaming,
  type StreamingDevice,
} from './device/attach.js';
export {
  type DataPacketKind,
  dataBytesPerPacket,
  type GvspBlock,
  imageBlock,
  type PacketisedBlock,
  packetiseBlock,
} from './device/packetizer.js';
export {
  glyphPixel,
  REFERENCE_EXPOSURE_US,
  SCENE_PIXEL_FORMATS,
  SceneRenderer,
  type SensorSettings,
  sceneText,
  type TextLayout,
  textLayout,
} from './device/scene.js';
export {
  GvspSender,
  type GvspSenderOptions,
  type GvspSenderStats,
  type LossOptions,
  type SenderImage,
} from './device/sender.js';
export { TestPatternRenderer, type TestPatternRendererOptions } from './device/test-pattern.js';
export type { GvspFrame, GvspFramePart } from './transport/frame.js';
export {
  type GvspStream,
  gvcpNodeMapPort,
  type MemoryAccess,
  type OpenStreamOptions,
  openStream,
  type StreamNodeMap,
  type StreamRegisterAccess,
} from './transport/open-stream.js';
export {
  Counter,
  type CounterName,
  FRAME_STATUS_NAMES,
  FrameStatus,
  type FrameStatusName,
  GvspReassembler,
  type ReassemblerHooks,
  type ReassemblerOptions,
} from './transport/reassembler.js';
export {
  GvspReceiver,
  type GvspReceiverCounters,
  type GvspReceiverOptions,
  type GvspReceiverStats,
  type ReceiveBufferReport,
  type ReceiveEngineReport,
} from './transport/receiver.js';
