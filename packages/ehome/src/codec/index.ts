export {
  canEncodeGb2312,
  decodeSignalText,
  encodeSignalText,
  encodingFromLabel,
  type SignalEncoding,
  SignalEncodings,
  sniffEncoding,
} from './charset.js';
export {
  type ChannelStatus,
  COMMAND_NAMES,
  COMMANDS,
  type CommandName,
  type Commands,
  type DeviceCommand,
  type DiskStatus,
  ID_PATTERN,
  isCommandName,
  type Method,
  Methods,
  type Origin,
  type PictureEntry,
  PLAYBACK_ACTIONS,
  type PlatformCommand,
  PTZ_COMMANDS,
  type PtzCommand,
  type RecordedFile,
  type RequestParams,
  type ResponseParams,
  STREAM_TYPES,
  Status,
  UPGRADE_STATES,
} from './commands.js';
export {
  FieldTypeError,
  MAX_SIGNAL_BYTES,
  MissingFieldError,
  SignalEncodingError,
  SignalTooLargeError,
  UnknownCommandError,
  XmlEntityError,
  XmlSyntaxError,
} from './errors.js';
export { asciiEquals, asciiText, type KeepaliveScan, keepaliveScan, scanKeepalive } from './keepalive.js';
export * from './media/index.js';
export {
  decodeMessage,
  decodeMessageGeneral,
  decodeMessageText,
  type EhomeMessage,
  type EhomeRequest,
  type EhomeRequestOf,
  type EhomeResponse,
  type EhomeResponseOf,
  type EncodableMessage,
  type Envelope,
  encodedLengthMessage,
  encodeMessage,
  messageToXml,
  ResponseTemplate,
  request,
  response,
  responseTemplate,
  sequenceDigits,
} from './message.js';
export { type ImplausibleReason, implausibleSignal, MIN_SIGNAL_BYTES } from './plausible.js';
export { EHOME_TIME, type Field, type Fields, type Infer, type Shape } from './schema.js';
export { formatEhomeTime, parseEhomeTime } from './time.js';
export type { XmlTree, XmlTreeValue } from './xml.js';
