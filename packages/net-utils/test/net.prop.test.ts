import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  directedBroadcast,
  ipv4ToU32,
  MalformedError,
  netmaskFromPrefix,
  networkAddress,
  prefixLength,
  sameSubnet,
  u32ToIpv4,
} from '../src/index.js';

const prefix = fc.integer({ min: 0, max: 32 });

describe('subnet properties', () => {
  test.prop([prefix])('prefixLength inverts netmaskFromPrefix', (p) => {
    expect(prefixLength(netmaskFromPrefix(p))).toBe(p);
  });

  test.prop([fc.integer({ min: 0, max: 0xffffffff })])(
    'a mask is accepted exactly when its ones are contiguous',
    (m) => {
      const mask = u32ToIpv4(m);
      const bits = m.toString(2).padStart(32, '0');
      const contiguous = /^1*0*$/.test(bits);
      if (contiguous) expect(prefixLength(mask)).toBe(bits.indexOf('0') === -1 ? 32 : bits.indexOf('0'));
      else expect(() => prefixLength(mask)).toThrow(MalformedError);
    },
  );

  test.prop([fc.ipV4(), prefix])('network and broadcast bound the subnet of the address', (ip, p) => {
    const mask = netmaskFromPrefix(p);
    const net = networkAddress(ip, mask);
    const bc = directedBroadcast(ip, mask);
    const size = 2 ** (32 - p);
    expect(ipv4ToU32(bc) - ipv4ToU32(net)).toBe(size - 1);
    expect(ipv4ToU32(ip)).toBeGreaterThanOrEqual(ipv4ToU32(net));
    expect(ipv4ToU32(ip)).toBeLessThanOrEqual(ipv4ToU32(bc));
    expect(sameSubnet(ip, bc, mask)).toBe(true);
    expect(sameSubnet(ip, net, mask)).toBe(true);
    expect(ipv4ToU32(net) % size).toBe(0);
  });

  test.prop([fc.ipV4(), fc.ipV4(), prefix])('sameSubnet agrees with the top p bits', (a, b, p) => {
    const shift = 32 - p;
    const top = (x: string) => (p === 0 ? 0 : Math.floor(ipv4ToU32(x) / 2 ** shift));
    expect(sameSubnet(a, b, netmaskFromPrefix(p))).toBe(top(a) === top(b));
  });
});
