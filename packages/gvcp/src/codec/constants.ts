/** The UDP port every GigE Vision device serves GVCP on. */
export const GVCP_PORT = 3956;

/** First byte of every GVCP command. */
export const GVCP_KEY = 0x42;

/** Size of the command and of the acknowledge header. */
export const GVCP_HEADER_SIZE = 8;

/**
 * Largest GVCP datagram the spec allows without negotiation: 576 bytes of IP datagram minus IP (20) and UDP (8)
 * headers. Payload limits below follow from it.
 */
export const GVCP_MAX_DATAGRAM = 548;

/** Largest GVCP payload (datagram minus the 8-byte header). */
export const GVCP_MAX_PAYLOAD = GVCP_MAX_DATAGRAM - GVCP_HEADER_SIZE;

/** Most registers one READREG may name (540 / 4). */
export const READREG_MAX_COUNT = GVCP_MAX_PAYLOAD / 4;

/** Most (address, value) pairs one WRITEREG may carry (540 / 8). */
export const WRITEREG_MAX_COUNT = Math.floor(GVCP_MAX_PAYLOAD / 8);

/** Most bytes one READMEM may ask for, so that the ack (address + data) fits a 576-byte IP datagram. */
export const READMEM_MAX_COUNT = 536;

/** Most data bytes one WRITEMEM may carry. */
export const WRITEMEM_MAX_COUNT = 536;

/** Chunk size the host uses for READMEM / WRITEMEM (Aravis uses the same; a multiple of 4 below the limit). */
export const MEMORY_CHUNK_SIZE = 512;

/** Flag bits of the command header (byte 1). */
export const GvcpFlag = {
  /** The device must acknowledge the command. */
  ACK_REQUIRED: 0x01,
  /** DISCOVERY / FORCEIP: the device may answer to the broadcast address. */
  ALLOW_BROADCAST_ACK: 0x10,
  /** PACKETRESEND / EVENT / EVENTDATA: 64-bit block ids and 32-bit packet ids. */
  EXTENDED_ID: 0x10,
  /** ACTION: an action time follows the keys. */
  SCHEDULED_ACTION: 0x80,
} as const;

/** Command codes, as the spec names them. */
export const GvcpCommandCode = {
  DISCOVERY_CMD: 0x0002,
  FORCEIP_CMD: 0x0004,
  PACKETRESEND_CMD: 0x0040,
  READREG_CMD: 0x0080,
  WRITEREG_CMD: 0x0082,
  READMEM_CMD: 0x0084,
  WRITEMEM_CMD: 0x0086,
  EVENT_CMD: 0x00c0,
  EVENTDATA_CMD: 0x00c2,
  ACTION_CMD: 0x0100,
} as const;
export type GvcpCommandCode = (typeof GvcpCommandCode)[keyof typeof GvcpCommandCode];

/** Acknowledge codes, as the spec names them. */
export const GvcpAckCode = {
  DISCOVERY_ACK: 0x0003,
  FORCEIP_ACK: 0x0005,
  PACKETRESEND_ACK: 0x0041,
  READREG_ACK: 0x0081,
  WRITEREG_ACK: 0x0083,
  READMEM_ACK: 0x0085,
  WRITEMEM_ACK: 0x0087,
  PENDING_ACK: 0x0089,
  EVENT_ACK: 0x00c1,
  EVENTDATA_ACK: 0x00c3,
  ACTION_ACK: 0x0101,
} as const;
export type GvcpAckCode = (typeof GvcpAckCode)[keyof typeof GvcpAckCode];

/** Status codes shared by GVCP acknowledges and GVSP headers. */
export const GvcpStatus = {
  SUCCESS: 0x0000,
  PACKET_RESEND: 0x0100,
  NOT_IMPLEMENTED: 0x8001,
  INVALID_PARAMETER: 0x8002,
  INVALID_ADDRESS: 0x8003,
  WRITE_PROTECT: 0x8004,
  BAD_ALIGNMENT: 0x8005,
  ACCESS_DENIED: 0x8006,
  BUSY: 0x8007,
  /** Deprecated in GigE Vision 2.0. */
  LOCAL_PROBLEM: 0x8008,
  /** Deprecated in GigE Vision 2.0. */
  MSG_MISMATCH: 0x8009,
  /** Deprecated in GigE Vision 2.0. */
  INVALID_PROTOCOL: 0x800a,
  /** Deprecated in GigE Vision 2.0. */
  NO_MSG: 0x800b,
  PACKET_UNAVAILABLE: 0x800c,
  DATA_OVERRUN: 0x800d,
  INVALID_HEADER: 0x800e,
  /** Deprecated in GigE Vision 2.0. */
  WRONG_CONFIG: 0x800f,
  PACKET_NOT_YET_AVAILABLE: 0x8010,
  PACKET_AND_PREV_REMOVED_FROM_MEMORY: 0x8011,
  PACKET_REMOVED_FROM_MEMORY: 0x8012,
  NO_REF_TIME: 0x8013,
  PACKET_TEMPORARILY_UNAVAILABLE: 0x8014,
  OVERFLOW: 0x8015,
  ACTION_LATE: 0x8016,
  LEADER_TRAILER_OVERFLOW: 0x8017,
  ERROR: 0x8fff,
} as const;
export type GvcpStatusName = keyof typeof GvcpStatus;
export type GvcpStatus = (typeof GvcpStatus)[GvcpStatusName];

const STATUS_NAMES = new Map<number, GvcpStatusName>(
  Object.entries(GvcpStatus).map(([name, code]) => [code, name as GvcpStatusName]),
);

/** `0x8006` -> `'ACCESS_DENIED'`; an unknown code -> `'UNKNOWN_STATUS_0x....'`. */
export function statusName(code: number): string {
  return STATUS_NAMES.get(code) ?? `UNKNOWN_STATUS_0x${code.toString(16).padStart(4, '0')}`;
}

/** True for status codes with the error bit (bit 15) set. */
export function isErrorStatus(code: number): boolean {
  return (code & 0x8000) !== 0;
}
