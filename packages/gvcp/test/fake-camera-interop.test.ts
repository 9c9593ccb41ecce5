import { afterAll, beforeAll, expect, it } from 'vitest';
import { arvTool, FakeCamera } from '../../../test-support/aravis.js';
import { describeInterop } from '../../../test-support/interop.js';
import { LOCKED_HOOK_TIMEOUT_MS } from '../../../test-support/port-lock.js';
import { BootstrapRegister, connectCamera, discover, fetchGenicamXml, GvcpClient, GvcpStatus } from '../src/index.js';

async function answers(): Promise<boolean> {
  return (await discover({ address: '127.0.0.1', timeoutMs: 300 })).length > 0;
}

// Every test that talks to the Aravis fake camera lives in this one file, run sequentially against one camera
// process. Every suite using 127.0.0.1:3956 holds GVCP_PORT_LOCK meanwhile, so they take turns. If a camera
// already serves 127.0.0.1:3956 (one left by a run that was killed), it is used as is and left running.
describeInterop('GvcpClient against arv-fake-gv-camera-0.8', ['arv-fake-gv-camera-0.8', 'arv-tool-0.8'], () => {
  const camera = new FakeCamera(answers, ['-s', 'G1GVCP']);
  beforeAll(() => camera.start(), LOCKED_HOOK_TIMEOUT_MS);
  afterAll(() => camera.stop());

  it('unicast discovery shows the Aravis identity', async () => {
    const [device] = await discover({ address: '127.0.0.1', timeoutMs: 1000 });
    expect(device).toMatchObject({
      manufacturerName: 'Aravis',
      modelName: 'Fake',
      ip: '127.0.0.1',
      port: 3956,
      interfaceAddress: '127.0.0.1',
    });
    const client = await GvcpClient.connect('127.0.0.1');
    try {
      const info = await client.deviceInfo();
      expect(info.serialNumber).toBe(device?.serialNumber);
      expect(info.deviceVersion).toBe(device?.deviceVersion);
      // The same strings through the bootstrap registers Aravis itself reads.
      const vendor = await arvTool('control', 'DeviceVendorName');
      expect(vendor).toContain('Aravis');
    } finally {
      await client.close();
    }
  });

  it('downloads the GenICam XML byte-identical to arv-tool genicam', async () => {
    const client = await GvcpClient.connect('127.0.0.1');
    try {
      const file = await fetchGenicamXml(client);
      expect(file.location).toMatchObject({ scheme: 'local', fileName: 'arv-fake-camera.xml' });
      const reference = await arvTool('genicam');
      // arv-tool prints the document followed by one newline.
      expect(`${file.xml}\n`).toBe(reference);
      expect(file.raw.byteLength).toBe(file.location.scheme === 'local' ? file.location.size : -1);
    } finally {
      await client.close();
    }
  });

  it('a register we write is what arv-tool reads', async () => {
    const client = await GvcpClient.connect('127.0.0.1');
    const xml = (await fetchGenicamXml(client)).xml;
    const m = /<IntReg Name="WidthRegister"[\s\S]*?<Address>(0x[0-9a-fA-F]+)<\/Address>/.exec(xml);
    expect(m?.[1]).toBeDefined();
    const address = Number.parseInt(m?.[1] ?? '0', 16);
    let original = 0;
    try {
      await client.takeControl();
      original = await client.readRegister(address);
      const value = original === 200 ? 184 : 200;
      await client.writeRegister(address, value);
      expect(await client.readRegister(address)).toBe(value);
      // Release control so arv-tool can open the camera as controller.
      await client.releaseControl();
      const out = await arvTool('control', `R[0x${address.toString(16)}]`);
      expect(out).toMatch(new RegExp(`= (0x0*${value.toString(16)}|${value})\\b`, 'i'));
      const width = await arvTool('control', 'Width');
      expect(width).toMatch(new RegExp(`Width = ${value}\\b`));
    } finally {
      await client.takeControl().catch(() => {});
      await client.writeRegister(address, original || 512).catch(() => {});
      await client.close();
    }
  });

  it('takes control through CCP, keeps it with heartbeats, releases on close', async () => {
    const client = await GvcpClient.connect('127.0.0.1');
    const timeout = await client.readRegister(BootstrapRegister.HEARTBEAT_TIMEOUT);
    expect(timeout).toBeGreaterThan(0);
    await client.takeControl({ heartbeatMs: 100 });
    expect(await client.readRegister(BootstrapRegister.CCP)).toBe(2);
    // Heartbeats every 100 ms; a loaded machine may stretch that, so wait (bounded) for the second one.
    for (let i = 0; i < 200 && client.stats.heartbeats < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(client.stats.heartbeats).toBeGreaterThanOrEqual(2);
    await client.close();
    const other = await GvcpClient.connect('127.0.0.1');
    try {
      expect(await other.readRegister(BootstrapRegister.CCP)).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('reads many registers one by one (the fake camera has no concatenation) and memory in 512-byte chunks', async () => {
    const client = await GvcpClient.connect('127.0.0.1');
    try {
      expect((await client.capabilities()) & 1).toBe(0);
      const regs = await client.readRegisters([
        BootstrapRegister.HEARTBEAT_TIMEOUT,
        BootstrapRegister.CCP,
        BootstrapRegister.GVCP_CAPABILITY,
      ]);
      expect(regs).toHaveLength(3);
      const mem = await client.readMemory(BootstrapRegister.MANUFACTURER_NAME, 32);
      expect(new TextDecoder().decode(mem).replace(/\0+$/, '')).toBe('Aravis');
      expect(GvcpStatus.SUCCESS).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('connectCamera loads the node map; a feature we set is what arv-tool reads', async () => {
    const cam = await connectCamera('127.0.0.1');
    let original: number | undefined;
    try {
      expect(await cam.nodeMap.get('DeviceVendorName')).toBe('Aravis');
      original = Number(await cam.nodeMap.get('Height'));
      const value = original === 96 ? 120 : 96;
      await cam.nodeMap.set('Height', value);
      expect(Number(await cam.nodeMap.get('Height'))).toBe(value);
      await cam.client.releaseControl();
      expect(await arvTool('control', 'Height')).toMatch(new RegExp(`Height = ${value}\\b`));
      await cam.client.takeControl();
      await cam.nodeMap.set('Height', original);
    } finally {
      await cam.close();
    }
  });
});
