import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  directedBroadcast,
  egressMtu,
  type Ipv4Interface,
  interfaceFor,
  interfaceMtu,
  isIpv4,
  isLoopback,
  listIpv4Interfaces,
  MalformedError,
  netmaskFromPrefix,
  networkAddress,
  prefixLength,
  sameSubnet,
  ValueOutOfRangeError,
} from '../src/index.js';

function iface(name: string, address: string, netmask: string, internal = false): Ipv4Interface {
  return {
    name,
    address,
    netmask,
    broadcast: directedBroadcast(address, netmask),
    prefixLength: prefixLength(netmask),
    internal,
    mac: '00:00:00:00:00:00',
  };
}

describe('subnet arithmetic', () => {
  it('prefixLength of contiguous masks', () => {
    expect(prefixLength('255.255.255.0')).toBe(24);
    expect(prefixLength('255.255.0.0')).toBe(16);
    expect(prefixLength('255.255.255.252')).toBe(30);
    expect(prefixLength('255.255.255.255')).toBe(32);
    expect(prefixLength('0.0.0.0')).toBe(0);
    expect(prefixLength('128.0.0.0')).toBe(1);
  });

  it('prefixLength rejects non-contiguous masks', () => {
    for (const m of ['255.0.255.0', '255.255.255.1', '0.0.0.255', '254.255.255.0']) {
      expect(() => prefixLength(m)).toThrow(MalformedError);
    }
    expect(() => prefixLength('255.0.255.0')).toThrowError('netmask 255.0.255.0 is not contiguous');
    expect(() => prefixLength('255.255.255')).toThrow(MalformedError);
  });

  it('netmaskFromPrefix', () => {
    expect(netmaskFromPrefix(0)).toBe('0.0.0.0');
    expect(netmaskFromPrefix(8)).toBe('255.0.0.0');
    expect(netmaskFromPrefix(23)).toBe('255.255.254.0');
    expect(netmaskFromPrefix(32)).toBe('255.255.255.255');
    expect(() => netmaskFromPrefix(33)).toThrow(ValueOutOfRangeError);
    expect(() => netmaskFromPrefix(-1)).toThrow(ValueOutOfRangeError);
    expect(() => netmaskFromPrefix(1.5)).toThrow(ValueOutOfRangeError);
  });

  it('directedBroadcast and networkAddress', () => {
    expect(directedBroadcast('192.168.1.20', '255.255.255.0')).toBe('192.168.1.255');
    expect(directedBroadcast('10.1.2.3', '255.0.0.0')).toBe('10.255.255.255');
    expect(directedBroadcast('172.16.5.4', '255.255.254.0')).toBe('172.16.5.255');
    expect(directedBroadcast('10.0.0.7', '255.255.255.255')).toBe('10.0.0.7');
    expect(directedBroadcast('10.0.0.7', '0.0.0.0')).toBe('255.255.255.255');
    expect(networkAddress('172.16.5.4', '255.255.254.0')).toBe('172.16.4.0');
  });

  it('sameSubnet', () => {
    expect(sameSubnet('192.168.1.20', '192.168.1.200', '255.255.255.0')).toBe(true);
    expect(sameSubnet('192.168.1.20', '192.168.2.20', '255.255.255.0')).toBe(false);
    expect(sameSubnet('192.168.1.20', '192.168.2.20', '255.255.0.0')).toBe(true);
    expect(sameSubnet('10.0.0.1', '10.0.0.2', '255.255.255.255')).toBe(false);
    expect(isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
  });
});

describe('interfaceFor', () => {
  const list = [
    iface('lo', '127.0.0.1', '255.0.0.0', true),
    iface('eth0', '192.168.1.10', '255.255.0.0'),
    iface('eth1', '192.168.1.20', '255.255.255.0'),
    iface('eth2', '10.0.0.5', '255.0.0.0'),
  ];

  it('picks the interface whose subnet holds the remote, most specific first', () => {
    expect(interfaceFor('192.168.1.77', list)?.name).toBe('eth1');
    expect(interfaceFor('192.168.9.77', list)?.name).toBe('eth0');
    expect(interfaceFor('10.200.0.1', list)?.name).toBe('eth2');
  });

  it('uses loopback for 127/8 and nothing for an unreachable subnet', () => {
    expect(interfaceFor('127.0.0.1', list)?.name).toBe('lo');
    expect(interfaceFor('127.5.5.5', list)?.name).toBe('lo');
    expect(interfaceFor('172.16.0.1', list)).toBeUndefined();
    expect(interfaceFor('127.0.0.1', list.slice(1))).toBeUndefined();
    expect(interfaceFor('172.16.0.1', [])).toBeUndefined();
  });

  it('never matches a non-loopback remote to loopback', () => {
    expect(interfaceFor('127.0.0.1', [iface('lo', '127.0.0.1', '0.0.0.0', true)])?.name).toBe('lo');
    expect(interfaceFor('8.8.8.8', [iface('lo', '127.0.0.1', '0.0.0.0', true)])).toBeUndefined();
  });

  it('throws a typed error for a bad address', () => {
    expect(() => interfaceFor('not-an-ip', list)).toThrow(MalformedError);
  });
});

describe('listIpv4Interfaces', () => {
  it('lists every IPv4 address of the host with consistent fields', () => {
    const list = listIpv4Interfaces();
    const expected = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i?.family === 'IPv4').length;
    expect(list.length).toBe(expected);
    expect(list.some((i) => i.internal && i.address === '127.0.0.1')).toBe(true);
    for (const i of list) {
      expect(typeof i.name).toBe('string');
      expect(isIpv4(i.address)).toBe(true);
      expect(isIpv4(i.netmask)).toBe(true);
      expect(i.broadcast).toBe(directedBroadcast(i.address, i.netmask));
      expect(i.prefixLength).toBe(prefixLength(i.netmask));
      expect(sameSubnet(i.address, i.broadcast, i.netmask)).toBe(true);
      expect(typeof i.internal).toBe('boolean');
      expect(i.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    }
  });

  it('can leave out loopback', () => {
    const list = listIpv4Interfaces({ includeInternal: false });
    expect(list.every((i) => !i.internal)).toBe(true);
    expect(list.length).toBe(listIpv4Interfaces().filter((i) => !i.internal).length);
  });
});

describe.runIf(process.platform === 'linux')('interfaceMtu / egressMtu (Linux /sys/class/net)', () => {
  it('reads the loopback MTU and the MTU towards a loopback host', () => {
    const mtu = interfaceMtu('lo');
    expect(mtu).toBeGreaterThanOrEqual(1500);
    expect(egressMtu('127.0.0.1')).toBe(mtu);
  });
  it('refuses names that are not interface names, and unknown interfaces', () => {
    for (const name of ['..', '.', '../lo', 'lo/mtu', '', 'x'.repeat(16), 'no-such-if0']) {
      expect(interfaceMtu(name)).toBeUndefined();
    }
  });
  it('is undefined for a host on no local subnet', () => {
    expect(egressMtu('203.0.113.7', [])).toBeUndefined();
  });
});
