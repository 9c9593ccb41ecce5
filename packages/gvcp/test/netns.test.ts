import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop, requireTool } from '../../../test-support/interop.js';
import { JsonLineChild, nodeArgs, run, serveDeviceScript, uniqueNetnsName } from './fixtures/device/child.js';

const hostScript = fileURLToPath(new URL('./fixtures/device/netns-host.ts', import.meta.url));

/**
 * Broadcast discovery and FORCEIP for real: two network namespaces this test creates (a host and a camera), joined
 * by a veth pair with private addresses. Our GvcpDevice runs in the camera namespace, the host side (discover,
 * forceIp) in the host namespace, each as a child process. Nothing leaves the namespaces; both are always deleted.
 */
describeInterop('GVCP discovery and FORCEIP across network namespaces', ['netns'], () => {
  const hostNs = uniqueNetnsName('h');
  const camNs = uniqueNetnsName('c');
  const net = 1 + Math.floor(Math.random() * 250);
  const hostIp = `10.213.${net}.1`;
  const camIp = `10.213.${net}.2`;
  const mac = '02:c2:00:00:13:37';
  const dir = mkdtempSync(join(tmpdir(), 'cam-gvcp-netns-'));
  const created: string[] = [];
  let camera: JsonLineChild | undefined;

  const sh = async (args: string[]) => {
    const r = await run(args[0]!, args.slice(1), 15_000);
    if (r.code !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
    return r;
  };

  const host = async (args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const [cmd, a] = nodeArgs(['ip', 'netns', 'exec', hostNs], hostScript, [JSON.stringify(args)]);
    const child = new JsonLineChild(cmd, a);
    const kill = setTimeout(() => child.child.kill('SIGKILL'), 20_000);
    try {
      await child.exited;
      const line = child.lines.find((l) => l.event === 'result' || l.event === 'error');
      if (!line || line.event === 'error') throw new Error(`host script: ${JSON.stringify(line)} ${child.stderr}`);
      return line;
    } finally {
      clearTimeout(kill);
    }
  };

  const deleteNamespaces = async (): Promise<void> => {
    for (const ns of created.splice(0)) await run('ip', ['netns', 'del', ns], 10_000);
  };

  beforeAll(async () => {
    try {
      for (const ns of [hostNs, camNs]) {
        await sh(['ip', 'netns', 'add', ns]);
        created.push(ns);
        await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      }
      // The veth ends are created directly inside the namespaces: nothing appears in the root namespace.
      await sh(['ip', 'link', 'add', 'vh0', 'netns', hostNs, 'type', 'veth', 'peer', 'name', 'vc0', 'netns', camNs]);
      await sh(['ip', '-n', hostNs, 'addr', 'add', `${hostIp}/24`, 'dev', 'vh0']);
      await sh(['ip', '-n', camNs, 'addr', 'add', `${camIp}/24`, 'dev', 'vc0']);
      await sh(['ip', '-n', hostNs, 'link', 'set', 'vh0', 'up']);
      await sh(['ip', '-n', camNs, 'link', 'set', 'vc0', 'up']);
      // A default route on the veth so 255.255.255.255 has somewhere to go (still only this pair).
      await sh(['ip', '-n', hostNs, 'route', 'add', 'default', 'dev', 'vh0']);
      await sh(['ip', '-n', camNs, 'route', 'add', 'default', 'dev', 'vc0']);
      const device = {
        address: '0.0.0.0',
        port: 3956,
        ip: camIp,
        subnetMask: '255.255.255.0',
        mac,
        serialNumber: 'NETNS1',
        applyIpDev: 'vc0',
        lifetimeMs: 120_000,
      };
      const [cmd, args] = nodeArgs(['ip', 'netns', 'exec', camNs], serveDeviceScript, [JSON.stringify(device)]);
      camera = new JsonLineChild(cmd, args);
      await camera.waitFor('listening', 30_000);
    } catch (error) {
      await camera?.stop();
      await deleteNamespaces();
      throw error;
    }
  }, 60_000);

  afterAll(async () => {
    try {
      await camera?.stop();
    } finally {
      await deleteNamespaces();
      rmSync(dir, { recursive: true, force: true });
    }
    const left = await run('ip', ['netns', 'list']);
    expect(left.stdout).not.toContain(hostNs);
    expect(left.stdout).not.toContain(camNs);
  }, 30_000);

  it('discover() finds the camera by broadcast, with the host interface it answered on', async () => {
    let pcap: string | undefined;
    let capture: JsonLineChild | undefined;
    if (requireTool('tshark', 'tshark checks the discovery broadcast')) {
      pcap = join(dir, 'discovery.pcapng');
      capture = new JsonLineChild('ip', [
        'netns',
        'exec',
        camNs,
        'tshark',
        '-i',
        'vc0',
        '-f',
        'udp dst port 3956',
        '-a',
        'duration:30',
        '-w',
        pcap,
      ]);
      for (let i = 0; i < 100 && !capture.stderr.includes('Capturing on'); i++)
        await new Promise((r) => setTimeout(r, 100));
    }
    const r = await host({ action: 'discover' });
    const devices = r.devices as Array<Record<string, unknown>>;
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({
      mac,
      ip: camIp,
      address: camIp,
      port: 3956,
      interfaceAddress: hostIp,
      serialNumber: 'NETNS1',
    });
    if (capture && pcap) {
      // Give dumpcap a moment to write the last packets before stopping it.
      await new Promise((r) => setTimeout(r, 1000));
      capture.child.kill('SIGINT');
      const t = setTimeout(() => capture?.child.kill('SIGKILL'), 10_000);
      await capture.exited;
      clearTimeout(t);
      const dst = await run('tshark', ['-r', pcap, '-Y', 'gvcp', '-T', 'fields', '-e', 'ip.dst']);
      // Both a global and a directed subnet broadcast reached the camera.
      expect(dst.stdout).toContain('255.255.255.255');
      expect(dst.stdout).toContain(`10.213.${net}.255`);
    }
  });

  it('discover() on one interface finds it too', async () => {
    const r = await host({ action: 'discover-interface', interface: hostIp });
    expect(r.devices).toMatchObject([{ mac, ip: camIp, interfaceAddress: hostIp }]);
  });

  it('forceIp() re-addresses the camera by MAC (same subnet), and discovery sees the new address', async () => {
    const newIp = `10.213.${net}.77`;
    const from = camera!.lines.length;
    const r = await host({ action: 'forceip', mac, ip: newIp, mask: '255.255.255.0' });
    expect(r.forceIp).toMatchObject({ acknowledged: true, status: 0 });
    expect(await camera!.waitFor('forceIp', 10_000, from)).toMatchObject({ ip: newIp, subnetMask: '255.255.255.0' });
    const again = await host({ action: 'discover' });
    expect(again.devices).toMatchObject([{ mac, ip: newIp, address: newIp, interfaceAddress: hostIp }]);
  });

  it('forceIp() to another subnet: the camera answers by broadcast and is still found', async () => {
    const foreignIp = `192.168.${net}.5`;
    const r = await host({ action: 'forceip', mac, ip: foreignIp, mask: '255.255.255.0' });
    expect(r.forceIp).toMatchObject({ acknowledged: true, status: 0 });
    const dump = await camera!.dump();
    expect(dump.ipConfig).toMatchObject({ ip: foreignIp });
    // The host is not on the camera's subnet any more: DISCOVERY_ACK comes back as a broadcast.
    const again = await host({ action: 'discover' });
    expect(again.devices).toMatchObject([{ mac, ip: foreignIp }]);
  });

  it('a FORCEIP for another MAC changes nothing', async () => {
    const before = (await camera!.dump()).ipConfig;
    const r = await host({
      action: 'forceip',
      mac: '02:00:00:00:00:99',
      ip: `10.213.${net}.99`,
      mask: '255.255.255.0',
      timeoutMs: 500,
    });
    expect(r.forceIp).toMatchObject({ acknowledged: false });
    expect((await camera!.dump()).ipConfig).toEqual(before);
  });
});
