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
