import { networkInterfaces } from 'node:os';
import { ipv4ToU32, u32ToIpv4 } from './bytes.js';
import { MalformedError, ValueOutOfRangeError } from './errors.js';

/** One IPv4 address of a host interface. */
export interface Ipv4Interface {
  /** Interface name (`eth0`, `lo`). */
  name: string;
  address: string;
  netmask: string;
  /** Directed broadcast address of the subnet (`address | ~netmask`). */
  broadcast: string;
  prefixLength: number;
  /** True for loopback. */
  internal: boolean;
  mac: string;
}

/** Every IPv4 address of every interface of this host (loopback included unless `includeInternal` is false). */
export function listIpv4Interfaces(options: { includeInternal?: boolean } = {}): Ipv4Interface[] {
  const out: Ipv4Interface[] = [];
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4') continue;
      if (info.internal && options.includeInternal === false) continue;
      out.push({
        name,
        address: info.address,
        netmask: info.netmask,
        broadcast: directedBroadcast(info.address, info.netmask),
        prefixLength: countOnes(ipv4ToU32(info.netmask)),
        internal: info.internal,
        mac: info.mac,
      });
    }
  }
  return out;
}

/** `'255.255.255.0'` -> 24. Throws {@link MalformedError} for a mask whose ones are not contiguous. */
export function prefixLength(netmask: string): number {
  const m = ipv4ToU32(netmask);
  const inverted = ~m >>> 0;
  if ((inverted & (inverted + 1)) !== 0) throw new MalformedError(0, `netmask ${netmask} is not contiguous`);
  let n = 0;
  for (let v = m; v !== 0; v = (v << 1) >>> 0) n++;
  return n;
}

/** Ones in a 32-bit value (a netmask's prefix length when it is contiguous). */
function countOnes(v: number): number {
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

/**
 * The local interface on the same subnet as `remote` (loopback for 127/8), or undefined. This is the address a
 * device must be told to send to (a stream or message destination). When several subnets contain `remote`, the
 * most specific one (longest prefix) wins, as in routing; ties go to the first in `interfaces`.
 */
export function interfaceFor(
  remote: string,
  interfaces: Ipv4Interface[] = listIpv4Interfaces(),
): Ipv4Interface | undefined {
  const r = ipv4ToU32(remote);
  if (r >>> 24 === 127) return interfaces.find((i) => i.internal && isLoopback(i.address));
  let best: Ipv4Interface | undefined;
  let bestPrefix = -1;
  for (const i of interfaces) {
    if (i.internal) continue;
    const m = ipv4ToU32(i.netmask);
    if ((ipv4ToU32(i.address) & m) >>> 0 !== (r & m) >>> 0) continue;
    const p = countOnes(m);
    if (p > bestPrefix) {
      best = i;
      bestPrefix = p;
    }
  }
  return best;
}
