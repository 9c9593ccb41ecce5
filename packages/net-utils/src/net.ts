import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { ipv4ToU32 } from './bytes.js';
import { countOnes, directedBroadcast, isLoopback } from './ipv4.js';

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

/** Largest MTU a link layer reports (loopback's is 65536); anything above is not a usable reading. */
const MAX_MTU = 65_536;

/**
 * The MTU of interface `name` in bytes (Linux: `/sys/class/net/NAME/mtu`), or undefined where it cannot be read
 * (another platform, an unknown name).
 */
export function interfaceMtu(name: string): number | undefined {
  if (!/^[\w.:@-]{1,15}$/.test(name) || name === '.' || name === '..') return undefined;
  try {
    const mtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim());
    return Number.isInteger(mtu) && mtu >= 68 && mtu <= MAX_MTU ? mtu : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The MTU of the interface that reaches `remote` directly (the one on its subnet, loopback for 127/8): the largest
 * IP datagram that leaves towards it unfragmented. Undefined when no local subnet holds `remote` or the MTU cannot
 * be read.
 */
export function egressMtu(remote: string, interfaces: Ipv4Interface[] = listIpv4Interfaces()): number | undefined {
  const i = interfaceFor(remote, interfaces);
  return i ? interfaceMtu(i.name) : undefined;
}
