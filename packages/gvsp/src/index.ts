export * from './codec/index.js';
export {
  type AttachStreamingOptions,
  attachGvspStreaming,
  type DeviceResendRequest,
  type GvspStreaming,
  type StreamingDevice,
} from './device/attach.js';
export {
  GvspSender,
  type GvspSenderOptions,
  type GvspSenderStats,
  type LossOptions,
  type SenderImage,
} from './device/sender.js';
export type { GvspFrame, GvspFramePart } from './engine/frame.js';
export {
  type DataPacketKind,
  dataBytesPerPacket,
  type GvspBlock,
  imageBlock,
  type PacketisedBlock,
  packetiseBlock,
} from './engine/packetizer.js';
export {
  Counter,
  type CounterName,
  FRAME_STATUS_NAMES,
  FrameStatus,
  type FrameStatusName,
  GvspReassembler,
  type ReassemblerHooks,
  type ReassemblerOptions,
} from './engine/reassembler.js';
export {
  glyphPixel,
  REFERENCE_EXPOSURE_US,
  SCENE_PIXEL_FORMATS,
  SceneRenderer,
  type SensorSettings,
  sceneText,
  type TextLayout,
  textLayout,
} from './engine/scene.js';
export { TestPatternRenderer, type TestPatternRendererOptions } from './engine/test-pattern.js';
export type { GvspReceiverOptions, ReceiveBufferReport, ReceiveEngineReport } from './transport/engine-host.js';
export {
  type GvspStream,
  gvcpNodeMapPort,
  type MemoryAccess,
  type OpenStreamOptions,
  openStream,
  type StreamNodeMap,
  type StreamRegisterAccess,
} from './transport/open-stream.js';
export { GvspReceiver, type GvspReceiverCounters, type GvspReceiverStats } from './transport/receiver.js';
