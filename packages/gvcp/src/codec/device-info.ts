import { ByteReader, ByteWriter } from '@cam/net-utils/wire';
import { BootstrapStringSize } from './registers.js';

/** Size of the DISCOVERY_ACK payload: a copy of bootstrap registers 0x0000-0x00F7. */
export const DEVICE_INFO_SIZE = 248;

/** What a device says about itself in a DISCOVERY_ACK (bootstrap registers 0x0000-0x00F7). */
export interface DeviceInfo {
  specVersionMajor: number;
  specVersionMinor: number;
  /** Device mode register (endianness, device class, character set); see `parseDeviceMode`. */
  deviceMode: number;
  /** `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** IP configuration schemes supported (`IpConfigBits`). */
  ipConfigSupported: number;
  /** IP configuration schemes enabled (`IpConfigBits`). */
  ipConfigCurrent: number;
  ip: string;
  subnetMask: string;
  defaultGateway: string;
  manufacturerName: string;
  modelName: string;
  deviceVersion: string;
  manufacturerInfo: string;
  serialNumber: string;
  userDefinedName: string;
}

/**
 * Reads a DeviceInfo from 248 bytes at the reader's cursor.
 * @internal the discovery ack codec uses it; not exported from the entries
 */
export function readDeviceInfo(r: ByteReader): DeviceInfo {
  r.ensure(DEVICE_INFO_SIZE, 'DISCOVERY_ACK payload');
  const version = r.u32(false, 'version');
  const deviceMode = r.u32(false, 'device mode');
  r.skip(2, 'reserved');
  const mac = r.mac();
  const ipConfigSupported = r.u32(false, 'supported IP configuration');
  const ipConfigCurrent = r.u32(false, 'current IP configuration');
  r.skip(12, 'reserved');
  const ip = r.ipv4('current IP address');
  r.skip(12, 'reserved');
  const subnetMask = r.ipv4('current subnet mask');
  r.skip(12, 'reserved');
  const defaultGateway = r.ipv4('current default gateway');
  return {
    specVersionMajor: version >>> 16,
    specVersionMinor: version & 0xffff,
    deviceMode,
    mac,
    ipConfigSupported,
    ipConfigCurrent,
    ip,
    subnetMask,
    defaultGateway,
    manufacturerName: r.fixedString(BootstrapStringSize.MANUFACTURER_NAME, 'utf-8', 'manufacturer name'),
    modelName: r.fixedString(BootstrapStringSize.MODEL_NAME, 'utf-8', 'model name'),
    deviceVersion: r.fixedString(BootstrapStringSize.DEVICE_VERSION, 'utf-8', 'device version'),
    manufacturerInfo: r.fixedString(BootstrapStringSize.MANUFACTURER_INFO, 'utf-8', 'manufacturer info'),
    serialNumber: r.fixedString(BootstrapStringSize.SERIAL_NUMBER, 'utf-8', 'serial number'),
    userDefinedName: r.fixedString(BootstrapStringSize.USER_DEFINED_NAME, 'utf-8', 'user-defined name'),
  };
}

/** Writes a DeviceInfo as 248 bytes (reserved bytes zero, strings NUL-padded).
 * @internal the discovery ack codec uses it; not exported from the entries
 */
export function writeDeviceInfo(info: DeviceInfo, w: ByteWriter): void {
  w.u16(info.specVersionMajor, false, 'specVersionMajor');
  w.u16(info.specVersionMinor, false, 'specVersionMinor');
  w.u32(info.deviceMode, false, 'deviceMode');
  w.zeros(2);
  w.mac(info.mac);
  w.u32(info.ipConfigSupported, false, 'ipConfigSupported');
  w.u32(info.ipConfigCurrent, false, 'ipConfigCurrent');
  w.zeros(12);
  w.ipv4(info.ip, 'ip');
  w.zeros(12);
  w.ipv4(info.subnetMask, 'subnetMask');
  w.zeros(12);
  w.ipv4(info.defaultGateway, 'defaultGateway');
  w.fixedString(info.manufacturerName, BootstrapStringSize.MANUFACTURER_NAME, { field: 'manufacturerName' });
  w.fixedString(info.modelName, BootstrapStringSize.MODEL_NAME, { field: 'modelName' });
  w.fixedString(info.deviceVersion, BootstrapStringSize.DEVICE_VERSION, { field: 'deviceVersion' });
  w.fixedString(info.manufacturerInfo, BootstrapStringSize.MANUFACTURER_INFO, { field: 'manufacturerInfo' });
  w.fixedString(info.serialNumber, BootstrapStringSize.SERIAL_NUMBER, { field: 'serialNumber' });
  w.fixedString(info.userDefinedName, BootstrapStringSize.USER_DEFINED_NAME, { field: 'userDefinedName' });
}

/** Decodes the 248-byte DISCOVERY_ACK payload (or bootstrap memory 0x0000-0x00F7). */
export function decodeDeviceInfo(bytes: Uint8Array): DeviceInfo {
  const r = new ByteReader(bytes);
  const info = readDeviceInfo(r);
  r.expectEnd('device information');
  return info;
}

/** Encodes a DeviceInfo as the 248-byte DISCOVERY_ACK payload. */
export function encodeDeviceInfo(info: DeviceInfo): Uint8Array {
  const w = new ByteWriter(DEVICE_INFO_SIZE);
  writeDeviceInfo(info, w);
  return w.bytes;
}
