/**
 * IPv4 address arithmetic: pure (no `node:` import), so codecs and browsers can use it. Parsing and formatting
 * (`ipv4ToU32`, `u32ToIpv4`, `isIpv4`) live in bytes.ts beside the reader's `ipv4()`.
 */
import { ipv4ToU32, u32ToIpv4 } from './bytes.js';
import { MalformedError, ValueOutOfRangeError } from './errors.js';

/** `'255.255.255.0'` -> 24. Throws {@link MalformedError} for a mask whose ones are not contiguous. */
export function prefixLength(netmask: string): number {
  const m = ipv4ToU32(netmask);
  const inverted = ~m >>> 0;
  if ((inverted & (inverted + 1)) !== 0) throw new MalformedError(0, `netmask ${netmask} is not contiguous`);
  let n = 0;
  for (let v = m; v !== 0; v = (v << 1) >>> 0) n++;
  return n;
}

/**
 * Ones in a 32-bit value (a netmask's prefix length when it is contiguous).
 * @internal
 */
export function countOnes(v: number): number {
  let n = 0;
  for (let x = v >>> 0; x !== 0; x = (x & (x - 1)) >>> 0) n++;
  return n;
}

/** 24 -> `'255.255.255.0'`. Throws {@link ValueOutOfRangeError} outside 0..32. */
export function netmaskFromPrefix(prefix: number): string {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new ValueOutOfRangeError('prefix length', `${prefix} is not an integer in 0..32`);
  }
  return u32ToIpv4(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}

/** Network address of `address` under `netmask`. */
export function networkAddress(address: string, netmask: string): string {
  return u32ToIpv4((ipv4ToU32(address) & ipv4ToU32(netmask)) >>> 0);
}

/** Directed (subnet) broadcast address: `address | ~netmask`. */
export function directedBroadcast(address: string, netmask: string): string {
  return u32ToIpv4((ipv4ToU32(address) | ~ipv4ToU32(netmask)) >>> 0);
}

/** True when `a` and `b` are in the same subnet under `netmask`. */
export function sameSubnet(a: string, b: string, netmask: string): boolean {
  const m = ipv4ToU32(netmask);
  return (ipv4ToU32(a) & m) >>> 0 === (ipv4ToU32(b) & m) >>> 0;
}

/** True for 127.0.0.0/8. */
export function isLoopback(address: string): boolean {
  return ipv4ToU32(address) >>> 24 === 127;
}
