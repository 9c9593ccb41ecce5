import { GvcpStatus } from '@cam/gvcp/codec';
/** GVSP packet formats (low 7 bits of header byte 4; bit 7 is the extended-id flag). */
export const GvspPacketFormat = {
  LEADER: 1,
  TRAILER: 2,
  /** Generic data payload. */
  PAYLOAD: 3,
  ALL_IN: 4,
  H264: 5,
  MULTIZONE: 6,
  MULTIPART: 7,
  GENDC: 8,
} as const;
export type GvspPacketFormat = (typeof GvspPacketFormat)[keyof typeof GvspPacketFormat];

/** The extended-id (EI) bit of header byte 4: 20-byte header with 64-bit block id and 32-bit packet id. */
export const GVSP_EXTENDED_ID_BIT = 0x80;
export const GVSP_STANDARD_HEADER_SIZE = 8;
export const GVSP_EXTENDED_HEADER_SIZE = 20;
/** IPv4 (20) + UDP (8) header bytes counted in the SCPS packet size. */
export const IP_UDP_OVERHEAD = 28;

/** GVSP payload types (leader/trailer `payload_type`, without the chunk bit). */
export const GvspPayloadType = {
  IMAGE: 0x0001,
  RAW_DATA: 0x0002,
  FILE: 0x0003,
  CHUNK_DATA: 0x0004,
  /** Deprecated since GigE Vision 2.0. */
  EXTENDED_CHUNK: 0x0005,
  JPEG: 0x0006,
  JPEG2000: 0x0007,
  H264: 0x0008,
  MULTIZONE_IMAGE: 0x0009,
  MULTIPART: 0x000a,
  GENDC_CONTAINER: 0x000b,
  GENDC_COMPONENT: 0x000c,
} as const;
export type GvspPayloadType = (typeof GvspPayloadType)[keyof typeof GvspPayloadType];

/** Bit of `payload_type` saying chunk data is appended to the payload (GigE Vision 2.0). */
export const GVSP_CHUNK_APPENDED_BIT = 0x4000;
/** Payload types at or above this value are device-specific. */
export const GVSP_DEVICE_SPECIFIC_PAYLOAD_TYPE = 0x8000;

/** Flags of the extended header (bits of the 16-bit field that replaces the block id). */
export const GvspHeaderFlag = {
  /** This packet is a retransmission (answer to PACKETRESEND). */
  PACKET_RESEND: 0x0001,
  /** The device dropped the previous block. */
  PREVIOUS_BLOCK_DROPPED: 0x0002,
  /** A PACKETRESEND asked for packet ids outside the block. */
  RESEND_RANGE_ERROR: 0x0004,
} as const;

/** Status codes of GVSP packets: the same table as GVCP's (GigE Vision), so one definition serves both. */
export const GvspStatus = GvcpStatus;
export type GvspStatus = GvcpStatus;

/** Statuses that say a requested packet will never come: the receiver stops asking for that block. */
export function isPacketGoneStatus(status: number): boolean {
  return (
    status === GvspStatus.PACKET_UNAVAILABLE ||
    status === GvspStatus.PACKET_AND_PREV_REMOVED_FROM_MEMORY ||
    status === GvspStatus.PACKET_REMOVED_FROM_MEMORY
  );
}

/** Statuses with which a packet still carries its data. */
export function statusCarriesData(status: number): boolean {
  return status === GvspStatus.SUCCESS || status === GvspStatus.PACKET_RESEND;
}

/** Multipart part data types (part info `data_type`). */
export const GvspMultipartDataType = {
  IMAGE_2D: 0x0001,
  PLANE_BIPLANAR_2D: 0x0002,
  PLANE_TRIPLANAR_2D: 0x0003,
  PLANE_QUADPLANAR_2D: 0x0004,
  IMAGE_3D: 0x0005,
  PLANE_BIPLANAR_3D: 0x0006,
  PLANE_TRIPLANAR_3D: 0x0007,
  PLANE_QUADPLANAR_3D: 0x0008,
  CONFIDENCE_MAP: 0x0009,
  CHUNK_DATA: 0x000a,
  JPEG: 0x000b,
  JPEG2000: 0x000c,
  DEVICE_SPECIFIC: 0x8000,
} as const;

/** True for the part data types whose 24 type-specific bytes hold size/offset/padding of an image. */
export function isImagePartDataType(dataType: number): boolean {
  return dataType >= 0x0001 && dataType <= 0x0009;
}

/** Name of a status code, for messages. */
export function gvspStatusName(status: number): string {
  for (const [k, v] of Object.entries(GvspStatus)) if (v === status) return k;
  return `0x${status.toString(16).padStart(4, '0')}`;
}

/** Name of a payload type (chunk bit ignored), for messages. */
export function gvspPayloadTypeName(payloadType: number): string {
  const base = payloadType & ~GVSP_CHUNK_APPENDED_BIT;
  for (const [k, v] of Object.entries(GvspPayloadType)) if (v === base) return k;
  if (base >= GVSP_DEVICE_SPECIFIC_PAYLOAD_TYPE) return `DEVICE_SPECIFIC_0x${base.toString(16)}`;
  return `0x${base.toString(16).padStart(4, '0')}`;
}
