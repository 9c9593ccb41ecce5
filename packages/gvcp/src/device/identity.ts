import { ipv4ToU32 } from '@cam/net-utils';

/**
 * The serial number a simulated camera takes when none is given: `CAM` + its IPv4 address and UDP port in hex
 * (`CAM7F0000020F74` is 127.0.0.2:3956), 15 bytes as the 16-byte bootstrap field allows. Two simulated cameras on
 * one host never share an address and port, so they never share a serial number (or the MAC derived from it).
 */
export function derivedSerialNumber(ip: string, port: number): string {
  return `CAM${ipv4ToU32(ip).toString(16).toUpperCase().padStart(8, '0')}${(port & 0xffff).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A locally administered unicast MAC (first octet 0x02) that is stable for a serial number (FNV-1a of it). */
export function derivedMac(serial: string): string {
  let h = 0x811c9dc5;
  for (const c of serial) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const b = [0x02, 0xca, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
