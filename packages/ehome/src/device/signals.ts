/**
 * The parameters of the signals a simulated device sends on its own (REGISTER, GPS), built from its settings.
 * Pure: no I/O.
 */
import { formatEhomeTime, type RequestParams } from '../codec/index.js';
import type { EhomeDeviceOptions } from './options.js';

/** A GPS fix in signed decimal degrees. */
export interface GpsFix {
  latitude: number;
  longitude: number;
  speed?: number;
  direction?: number;
  satellites?: number;
  precision?: number;
  height?: number;
  time?: Date;
}

/** REGISTER as this device sends it (EHome 4.0 adds DetectPackage and ReliableTransmission, both off). */
export function registerParams(
  deviceId: string,
  firmwareVersion: string,
  version: string,
  local: { address: string; port: number },
  options: Pick<EhomeDeviceOptions, 'devType' | 'manufacture' | 'serialNumber' | 'password'>,
): RequestParams<'REGISTER'> {
  const p: RequestParams<'REGISTER'> = {
    netUnitType: 'PU',
    deviceId,
    firmwareVersion,
    localIp: local.address,
    localPort: local.port,
    devType: options.devType ?? 1,
    manufacture: options.manufacture ?? 0,
  };
  if (options.serialNumber !== undefined) p.serialNumber = options.serialNumber;
  if (options.password !== undefined) p.password = options.password;
  if (!version.startsWith('2.')) {
    p.detectPackage = 0;
    p.reliableTransmission = 0;
  }
  return p;
}

/** GPS: EHome carries degrees x 360000 and a hemisphere letter. */
export function gpsParams(deviceId: string, fix: GpsFix): RequestParams<'GPS'> {
  return {
    deviceId,
    time: formatEhomeTime(fix.time ?? new Date()),
    divisionEW: fix.longitude < 0 ? 'W' : 'E',
    longitude: Math.round(Math.abs(fix.longitude) * 360000),
    divisionNS: fix.latitude < 0 ? 'S' : 'N',
    latitude: Math.round(Math.abs(fix.latitude) * 360000),
    direction: Math.round(fix.direction ?? 0),
    speed: Math.round(fix.speed ?? 0),
    satellites: fix.satellites ?? 7,
    precision: fix.precision ?? 10,
    height: Math.round(fix.height ?? 0),
    retransFlag: 0,
    needsResponse: 1,
    timeZone: '+00:00',
  };
}
