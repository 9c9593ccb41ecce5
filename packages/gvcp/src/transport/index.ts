export { type ActionAcknowledge, type ActionOptions, sendAction } from './action.js';
export { type Camera, type ConnectCameraOptions, connectCamera, GvcpPort } from './camera.js';
export {
  type ControlOptions,
  type GvcpCallOptions,
  GvcpClient,
  type GvcpClientEvents,
  type GvcpClientOptions,
  type GvcpClientStats,
  heartbeatPeriodFor,
  type RegisterAccess,
} from './client.js';
export {
  type DiscoveredDevice,
  type DiscoverOptions,
  discover,
  type ForceIpOptions,
  type ForceIpResult,
  forceIp,
} from './discovery.js';
export { ClientClosedError, ControlLostError, GvcpStatusError } from './errors.js';
export {
  type FetchGenicamOptions,
  fetchGenicamXml,
  type GenicamFile,
  GenicamUrlRefusedError,
  unzipOne,
} from './genicam.js';
export {
  MessageChannel,
  type MessageChannelEvent,
  type MessageChannelOptions,
  type MessageChannelStats,
  openMessageChannel,
} from './message-channel.js';
