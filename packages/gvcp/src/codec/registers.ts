import { ValueOutOfRangeError } from '@cam/net-utils/wire';

/** Bootstrap registers every GigE Vision device has, named as the spec names them. */
export const BootstrapRegister = {
  VERSION: 0x0000,
  DEVICE_MODE: 0x0004,
  DEVICE_MAC_ADDRESS_HIGH: 0x0008,
  DEVICE_MAC_ADDRESS_LOW: 0x000c,
  SUPPORTED_IP_CONFIGURATION: 0x0010,
  CURRENT_IP_CONFIGURATION: 0x0014,
  CURRENT_IP_ADDRESS: 0x0024,
  CURRENT_SUBNET_MASK: 0x0034,
  CURRENT_DEFAULT_GATEWAY: 0x0044,
  MANUFACTURER_NAME: 0x0048,
  MODEL_NAME: 0x0068,
  DEVICE_VERSION: 0x0088,
  MANUFACTURER_INFO: 0x00a8,
  SERIAL_NUMBER: 0x00d8,
  USER_DEFINED_NAME: 0x00e8,
  FIRST_URL: 0x0200,
  SECOND_URL: 0x0400,
  NUMBER_OF_NETWORK_INTERFACES: 0x0600,
  PERSISTENT_IP_ADDRESS: 0x064c,
  PERSISTENT_SUBNET_MASK: 0x065c,
  PERSISTENT_DEFAULT_GATEWAY: 0x066c,
  LINK_SPEED: 0x0670,
  NUMBER_OF_MESSAGE_CHANNELS: 0x0900,
  NUMBER_OF_STREAM_CHANNELS: 0x0904,
  NUMBER_OF_ACTION_SIGNALS: 0x0908,
  ACTION_DEVICE_KEY: 0x090c,
  NUMBER_OF_ACTIVE_LINKS: 0x0910,
  GVSP_CAPABILITY: 0x092c,
  MESSAGE_CHANNEL_CAPABILITY: 0x0930,
  GVCP_CAPABILITY: 0x0934,
  HEARTBEAT_TIMEOUT: 0x0938,
  TIMESTAMP_TICK_FREQUENCY_HIGH: 0x093c,
  TIMESTAMP_TICK_FREQUENCY_LOW: 0x0940,
  TIMESTAMP_CONTROL: 0x0944,
  TIMESTAMP_VALUE_HIGH: 0x0948,
  TIMESTAMP_VALUE_LOW: 0x094c,
  DISCOVERY_ACK_DELAY: 0x0950,
  GVCP_CONFIGURATION: 0x0954,
  PENDING_TIMEOUT: 0x0958,
  CONTROL_SWITCHOVER_KEY: 0x095c,
  GVSP_CONFIGURATION: 0x0960,
  PHYSICAL_LINK_CONFIGURATION_CAPABILITY: 0x0964,
  PHYSICAL_LINK_CONFIGURATION: 0x0968,
  IEEE1588_STATUS: 0x096c,
  SCHEDULED_ACTION_COMMAND_QUEUE_SIZE: 0x0970,
  /** Control Channel Privilege. */
  CCP: 0x0a00,
  PRIMARY_APPLICATION_PORT: 0x0a04,
  PRIMARY_APPLICATION_IP_ADDRESS: 0x0a14,
  /** Message Channel Port (host port in the low 16 bits). */
  MCP: 0x0b00,
  /** Message Channel Destination Address. */
  MCDA: 0x0b10,
  /** Message Channel Transmission Timeout (ms). */
  MCTT: 0x0b14,
  /** Message Channel Retry Count. */
  MCRC: 0x0b18,
  /** Message Channel Source Port. */
  MCSP: 0x0b1c,
  /** Stream channel 0 starts here; channel n at STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n. */
  STREAM_CHANNEL_BASE: 0x0d00,
  MANIFEST_TABLE: 0x9000,
  /** Action group n key at ACTION_GROUP_KEY_BASE + ACTION_GROUP_STRIDE * n. */
  ACTION_GROUP_KEY_BASE: 0x9800,
  /** Action group n mask at ACTION_GROUP_MASK_BASE + ACTION_GROUP_STRIDE * n. */
  ACTION_GROUP_MASK_BASE: 0x9804,
  /** First manufacturer-specific register. */
  MANUFACTURER_SPECIFIC: 0xa000,
} as const;
export type BootstrapRegister = (typeof BootstrapRegister)[keyof typeof BootstrapRegister];

/** Sizes (bytes) of the bootstrap string and URL fields. */
export const BootstrapStringSize = {
  MANUFACTURER_NAME: 32,
  MODEL_NAME: 32,
  DEVICE_VERSION: 32,
  MANUFACTURER_INFO: 48,
  SERIAL_NUMBER: 16,
  USER_DEFINED_NAME: 16,
  FIRST_URL: 512,
  SECOND_URL: 512,
} as const;

/** Distance between two stream channel register blocks. */
export const STREAM_CHANNEL_STRIDE = 0x40;
/** Distance between two action group key/mask pairs. */
export const ACTION_GROUP_STRIDE = 0x10;
/** Most stream channels a device may have. */
export const MAX_STREAM_CHANNELS = 512;

/** Registers inside a stream channel block (offsets from its base). */
export const StreamChannelRegister = {
  /** Stream Channel Port: host port in the low 16 bits. */
  SCP: 0x00,
  /** Stream Channel Packet Size (see {@link ScpsBits}). */
  SCPS: 0x04,
  /** Stream Channel Packet Delay (timestamp ticks). */
  SCPD: 0x08,
  /** Stream Channel Destination Address. */
  SCDA: 0x18,
  /** Stream Channel Source Port. */
  SCSP: 0x1c,
  /** Stream Channel Capability. */
  SCC: 0x20,
  /** Stream Channel Configuration. */
  SCCFG: 0x24,
  /** Stream Channel Zone. */
  SCZ: 0x28,
  /** Stream Channel Zone Direction. */
  SCZD: 0x2c,
} as const;
export type StreamChannelRegister = (typeof StreamChannelRegister)[keyof typeof StreamChannelRegister];

/** Address of register `reg` of stream channel `n` (0-based): `0x0D00 + 0x40 * n + reg`. */
export function streamChannelRegister(n: number, reg: StreamChannelRegister | number): number {
  if (!Number.isInteger(n) || n < 0 || n >= MAX_STREAM_CHANNELS) {
    throw new ValueOutOfRangeError('stream channel', `${n} is not in 0..${MAX_STREAM_CHANNELS - 1}`);
  }
  if (!Number.isInteger(reg) || reg < 0 || reg >= STREAM_CHANNEL_STRIDE || reg % 4 !== 0) {
    throw new ValueOutOfRangeError('stream channel register', `offset ${reg} is not a multiple of 4 below 0x40`);
  }
  return BootstrapRegister.STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n + reg;
}

/** Address of action group `n`'s key (`which = 'key'`) or mask register. */
export function actionGroupRegister(n: number, which: 'key' | 'mask'): number {
  if (!Number.isInteger(n) || n < 0 || n >= 128)
    throw new ValueOutOfRangeError('action group', `${n} is not in 0..127`);
  const base = which === 'key' ? BootstrapRegister.ACTION_GROUP_KEY_BASE : BootstrapRegister.ACTION_GROUP_MASK_BASE;
  return base + ACTION_GROUP_STRIDE * n;
}

/** Bits of the CCP register. */
export const CcpBits = {
  EXCLUSIVE_ACCESS: 0x1,
  CONTROL_ACCESS: 0x2,
  CONTROL_SWITCHOVER_ENABLE: 0x4,
  /** The switchover key sits in the high 16 bits. */
  SWITCHOVER_KEY_SHIFT: 16,
} as const;

/** Bits of the GVCP capability register 0x0934 (the spec numbers bits from the MSB; these are masks). */
export const GvcpCapability = {
  /** Multiple registers in one READREG / WRITEREG. */
  CONCATENATION: 0x1,
  WRITEMEM: 0x2,
  PACKETRESEND: 0x4,
  EVENT: 0x8,
  EVENTDATA: 0x10,
  PENDING_ACK: 0x20,
  ACTION: 0x40,
  PRIMARY_APPLICATION_SWITCHOVER: 1 << 21,
  EXTENDED_STATUS_CODES: 1 << 22,
  DISCOVERY_ACK_DELAY_WRITABLE: 1 << 23,
  DISCOVERY_ACK_DELAY: 1 << 24,
  TEST_DATA: 1 << 25,
  MANIFEST_TABLE: 1 << 26,
  CCP_APPLICATION_SOCKET: 1 << 27,
  LINK_SPEED: 1 << 28,
  HEARTBEAT_DISABLE: 1 << 29,
  SERIAL_NUMBER: 1 << 30,
  USER_DEFINED_NAME: 2 ** 31,
} as const;

/** Bits of the GVCP configuration register 0x0954. */
export const GvcpConfigurationBits = {
  HEARTBEAT_DISABLE: 0x1,
  PENDING_ACK_ENABLE: 0x2,
  EXTENDED_STATUS_CODES: 0x4,
} as const;

/** Bits of the GVSP configuration register 0x0960. */
export const GvspConfigurationBits = {
  /** 64-bit block ids and 32-bit packet ids on the stream channels. */
  BLOCK_ID_64BIT_ENABLE: 0x40000000,
} as const;

/** Bits of the SCPS register. */
export const ScpsBits = {
  PACKET_SIZE_MASK: 0xffff,
  DO_NOT_FRAGMENT: 0x40000000,
  BIG_ENDIAN: 0x20000000,
  /** Write 1 to make the device send one test packet. */
  FIRE_TEST_PACKET: 2 ** 31,
} as const;

/** Bits of the IP configuration supported / current registers. */
export const IpConfigBits = {
  PERSISTENT: 0x1,
  DHCP: 0x2,
  LLA: 0x4,
} as const;

/** Bits of the device mode register 0x0004. */
export const DeviceModeBits = {
  BIG_ENDIAN: 2 ** 31,
  /** Device class in bits 28..30 (0 transmitter, 1 receiver, 2 transceiver, 3 peripheral). */
  DEVICE_CLASS_SHIFT: 28,
  DEVICE_CLASS_MASK: 0x7,
  /** Character set in the low 8 bits (1 UTF-8, 2 ASCII). */
  CHARACTER_SET_MASK: 0xff,
} as const;

/** Decoded device mode register. */
export interface DeviceMode {
  bigEndian: boolean;
  deviceClass: number;
  characterSet: number;
}

/** Splits the device mode register into its fields. */
export function parseDeviceMode(value: number): DeviceMode {
  return {
    bigEndian: (value & DeviceModeBits.BIG_ENDIAN) !== 0,
    deviceClass: (value >>> DeviceModeBits.DEVICE_CLASS_SHIFT) & DeviceModeBits.DEVICE_CLASS_MASK,
    characterSet: value & DeviceModeBits.CHARACTER_SET_MASK,
  };
}
