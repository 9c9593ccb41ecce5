import { createSocket, type Socket } from 'node:dgram';
import type { Ipv4Interface } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceSockets } from '../src/device/sockets.js';
import { ForceIpHookError, ipRouteForceIpHook } from '../src/index.js';

/** Loopback addresses dressed as interfaces: 127/8 is local, so each binds without touching a real network. */
const lo = (address: string, name = 'lo'): Ipv4Interface => ({
  name,
  address,
  netmask: '255.0.0.0',
  broadcast: '127.255.255.255',
  prefixLength: 8,
  internal: true,
  mac: '00:00:00:00:00:00',
});

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

/** An echo device on the given interfaces: answers each datagram with the local address it arrived on. */
async function echoSockets(interfaces: () => Ipv4Interface[], port = 0): Promise<DeviceSockets> {
  const set = await DeviceSockets.open({
    bindAddress: '0.0.0.0',
    port,
    interfaces,
    onMessage: (_msg, rinfo, reply, local) => reply.send(local, rinfo.port, rinfo.address),
    onError: () => {},
  });
  cleanup.push(() => set.close());
  return set;
}

async function ask(from: string, to: string, port: number): Promise<{ source: string; local: string }> {
  const s: Socket = createSocket('udp4');
  cleanup.push(() => new Promise((r) => s.close(() => r())));
  await new Promise<void>((r) => s.bind(0, from, r));
  const answer = new Promise<{ source: string; local: string }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer from ${to}:${port}`)), 2000);
    s.once('message', (m, rinfo) => {
      clearTimeout(t);
      resolve({ source: rinfo.address, local: m.toString() });
    });
  });
  s.send('?', port, to);
  return answer;
}

describe('DeviceSockets (bound to every interface)', () => {
  it('answers from the address each datagram was sent to', async () => {
    const set = await echoSockets(() => [lo('127.0.0.1'), lo('127.0.0.2', 'lo:1')]);
    expect(set.everyInterface).toBe(true);
    expect(set.addresses).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(await ask('127.0.0.1', '127.0.0.2', set.port)).toEqual({ source: '127.0.0.2', local: '127.0.0.2' });
    expect(await ask('127.0.0.2', '127.0.0.1', set.port)).toEqual({ source: '127.0.0.1', local: '127.0.0.1' });
  });

  it('follows interface addresses that come and go on refresh()', async () => {
    let interfaces = [lo('127.0.0.1'), lo('127.0.0.2', 'lo:1')];
    const set = await echoSockets(() => interfaces);
    interfaces = [lo('127.0.0.1'), lo('127.0.0.3', 'lo:1')];
    await set.refresh();
    expect(set.addresses).toEqual(['127.0.0.1', '127.0.0.3']);
    expect(await ask('127.0.0.1', '127.0.0.3', set.port)).toEqual({ source: '127.0.0.3', local: '127.0.0.3' });
    await expect(ask('127.0.0.1', '127.0.0.2', set.port)).rejects.toThrow(/no answer/);
  });

  it('a port held on one of the addresses fails with EADDRINUSE (no SO_REUSEADDR)', async () => {
    const first = await echoSockets(() => [lo('127.0.0.1')]);
    await expect(echoSockets(() => [lo('127.0.0.1')], first.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('socketFor() picks the interface on the host subnet, else the current IP', async () => {
    const set = await echoSockets(() => [lo('127.0.0.1'), lo('127.0.0.2', 'lo:1')]);
    const first = set.socketFor('127.9.9.9', '127.0.0.2');
    expect(first && set.localAddressOf(first)).toBe('127.0.0.1'); // 127/8 is loopback's: the first one
    const none = set.socketFor('10.1.2.3', '127.0.0.2');
    expect(none && set.localAddressOf(none)).toBe('127.0.0.2');
  });
});

describe('ipRouteForceIpHook', () => {
  const config = { ip: '10.250.0.9', subnetMask: '255.255.255.0', gateway: '0.0.0.0' };
  it('refuses to move an address no interface holds', async () => {
    const hook = ipRouteForceIpHook({ ipCommand: '/bin/false' });
    await expect(hook(config, { ...config, ip: '10.250.0.8' })).rejects.toThrow(ForceIpHookError);
  });
  it('leaves loopback where it is', async () => {
    const hook = ipRouteForceIpHook({ ipCommand: '/bin/false' });
    await expect(hook(config, { ip: '127.0.0.1', subnetMask: '255.0.0.0', gateway: '0.0.0.0' })).rejects.toThrow(
      /loopback/,
    );
  });
});
