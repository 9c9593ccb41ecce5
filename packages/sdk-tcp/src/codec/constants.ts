/**
 * Command codes, limits and enumerations of the Huidu SDK TCP protocol (all integers little-endian).
 * Names follow the vendor's `HCmdType` enumeration.
 */

/** Command codes (u16) of the SDK TCP protocol and its UDP search. */
export const SdkCmd = {
  kTcpHeartbeatAsk: 0x005f,
  kTcpHeartbeatAnswer: 0x0060,
  kSearchDeviceAsk: 0x1001,
  kSearchDeviceAnswer: 0x1002,
  kErrorAnswer: 0x2000,
  kSDKServiceAsk: 0x2001,
  kSDKServiceAnswer: 0x2002,
  kSDKCmdAsk: 0x2003,
  kSDKCmdAnswer: 0x2004,
  kGPSInfoAnswer: 0x3007,
  kFileStartAsk: 0x8001,
  kFileStartAnswer: 0x8002,
  kFileContentAsk: 0x8003,
  kFileContentAnswer: 0x8004,
  kFileEndAsk: 0x8005,
  kFileEndAnswer: 0x8006,
  kReadFileAsk: 0x8007,
  kReadFileAnswer: 0x8008,
  kFileListStartAsk: 0x80fc,
  kFileListStartAnswer: 0x80fd,
  kFileListEndAsk: 0x80fe,
  kFileListEndAnswer: 0x80ff,
} as const;
export type SdkCmdName = keyof typeof SdkCmd;
export type SdkCmdCode = (typeof SdkCmd)[SdkCmdName];

const CMD_NAMES = new Map<number, SdkCmdName>(
  (Object.entries(SdkCmd) as [SdkCmdName, number][]).map(([name, code]) => [code, name]),
);

/** The name of a command code, or undefined for a code this protocol does not define. */
export function sdkCmdName(code: number): SdkCmdName | undefined {
  return CMD_NAMES.get(code);
}

/** TCP and UDP port of the SDK service. */
export const SDK_PORT = 10001;
/** Size of the `[u16 len][u16 cmd]` header of every TCP packet. */
export const PACKET_HEADER_SIZE = 4;
/** Largest TCP packet, header included (`9 * 1024`). */
export const MAX_PACKET_SIZE = 9 * 1024;
/** Header of an SDK call packet: len, cmd, total, index. */
export const SDK_CMD_HEADER_SIZE = 12;
/** Largest XML chunk in one SDK call packet (`9 * 1024 - 12`), the note's `XmlMaxLength`. */
export const MAX_XML_CHUNK = MAX_PACKET_SIZE - SDK_CMD_HEADER_SIZE;
/** The chunk size the vendor's C++ SDK splits XML at; accepted on decode, selectable on encode. */
export const VENDOR_CPP_XML_CHUNK = 9200;
/** Largest whole XML document of one SDK call (2 MiB). */
export const MAX_XML_TOTAL = 2 * 1024 * 1024;
/** Largest file content in one kFileContentAsk packet. */
export const MAX_FILE_CONTENT_CHUNK = MAX_PACKET_SIZE - PACKET_HEADER_SIZE;
/** Length of an MD5 digest in hex; the wire field is 33 bytes (NUL-terminated). */
export const MD5_HEX_LENGTH = 32;
export const MD5_FIELD_SIZE = 33;
/** Size of the device id field of a search answer. */
export const DEVICE_ID_SIZE = 15;

/** Transport protocol versions seen in vendor code (`LOCAL_TCP_VERSION`). */
export const TcpVersion = {
  v5: 0x1000005,
  v7: 0x1000007,
  v9: 0x1000009,
} as const;
export type TcpVersionValue = (typeof TcpVersion)[keyof typeof TcpVersion];

/** `type` of a file transfer (HFileStartAsk). */
export const FileType = {
  image: 0,
  video: 1,
  font: 2,
  firmware: 3,
  config: 4,
  fpga: 5,
} as const;
export type FileTypeName = keyof typeof FileType;

/** A host sends a heartbeat ask after this long without sending. */
export const HEARTBEAT_IDLE_MS = 30_000;
/** A device drops a host that sent no whole packet for this long. */
export const HOST_SILENCE_LIMIT_MS = 60_000;
/** Our device's limit on how long one packet may take to arrive once its first byte has (a rate floor). */
export const PACKET_TIMEOUT_MS = 10_000;
/** Our device's limit on the handshake (transport negotiation and GetIFVersion) after connecting. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** The `guid` placeholder of a GetIFVersion request, before a guid is known. */
export const GUID_PLACEHOLDER = '##GUID';
