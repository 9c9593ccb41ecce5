import { afterAll, beforeAll, expect, it } from 'vitest';
import { ARV_TOOL, arvTool, FAKE_CAMERA, FakeCamera } from '../../../test-support/aravis.js';
import { describeInterop } from '../../../test-support/interop.js';
import { LOCKED_HOOK_TIMEOUT_MS } from '../../../test-support/port-lock.js';
import { MemoryPort, NodeMap } from '../src/index.js';

// A real camera's description file, taken at test time from the installed Aravis (never committed here): the XML
// arv-fake-gv-camera-0.8 serves, read with `arv-tool-0.8 -a 127.0.0.1 genicam`, loaded into our node map over a
// memory image of the fake camera's registers. (packages/gvcp/test/genicam-aravis.test.ts reads the same XML over
// our GVCP client and compares every value with the live camera.)

/** The registers arv-fake-gv-camera-0.8 starts with (what arv-tool reads back from it), big-endian. */
function fakeCameraMemory(): MemoryPort {
  const port = new MemoryPort(0x10000);
  const text = (addr: number, s: string): void => port.memory.set(new TextEncoder().encode(s), addr);
  text(0x48, 'Aravis');
  text(0x68, 'Fake');
  text(0x88, '0.8.26');
  text(0xa8, 'none');
  text(0xd8, 'GENC01');
  for (const [a, v] of [
    [0x100, 512],
    [0x104, 512],
    [0x108, 1],
    [0x10c, 1],
    [0x114, 1],
    [0x118, 2048],
    [0x11c, 2048],
    [0x120, 10000],
    [0x128, 17301505],
    [0x12c, 1],
    [0x138, 40000],
    [0x1f0, 0x12345678],
  ] as const)
    port.setUint32(a, v);
  return port;
}

let served: string | undefined;

/** Whether the fake camera answers on 127.0.0.1; its XML is kept from the answer. */
async function answers(): Promise<boolean> {
  try {
    const xml = await arvTool('genicam');
    if (!xml.includes('<RegisterDescription')) return false;
    served = xml;
    return true;
  } catch {
    return false;
  }
}

describeInterop(`Aravis's built-in camera XML (${FAKE_CAMERA}, ${ARV_TOOL} genicam)`, [FAKE_CAMERA, ARV_TOOL], () => {
  const camera = new FakeCamera(answers, ['-s', 'GENICAMXML']);

  // Every suite using 127.0.0.1:3956 holds GVCP_PORT_LOCK meanwhile (FakeCamera.start takes it).
  beforeAll(async () => {
    served = undefined;
    await camera.start();
    if (served === undefined && !(await answers())) throw new Error(`${ARV_TOOL} read no XML from ${FAKE_CAMERA}`);
  }, LOCKED_HOOK_TIMEOUT_MS);
  afterAll(() => camera.stop());

  const xml = (): string => served as string;

  it('loads and reads every feature the way arv-tool-0.8 shows it', async () => {
    const map = await NodeMap.load(xml(), fakeCameraMemory());
    expect(map.schemaVersion).toMatchObject({ major: 1, minor: 0 });
    expect(map.legacyEndianness).toBe(true);
    expect(map.vendorName).toBe('Aravis');
    expect(map.unsupported.size).toBe(0);
    expect(map.danglingReferences()).toEqual([]);
    const readings = await map.values();
    const values = Object.fromEntries(readings.filter((r) => 'value' in r).map((r) => [r.name, r.value]));
    // A subset match, so that a newer Aravis adding features still passes; every value here is checked.
    expect(values).toMatchObject({
      DeviceVendorName: 'Aravis',
      DeviceModelName: 'Fake',
      DeviceManufacturerInfo: 'none',
      DeviceID: 'GENC01',
      DeviceVersion: '0.8.26',
      SensorHeight: 2048,
      SensorWidth: 2048,
      OffsetX: 0,
      OffsetY: 0,
      Width: 512,
      Height: 512,
      BinningHorizontal: 1,
      BinningVertical: 1,
      PixelFormat: 'Mono8',
      AcquisitionMode: 'Continuous',
      TriggerSelector: 'FrameStart',
      TriggerMode: 'Off',
      TriggerSource: 'Line0',
      TriggerActivation: 'RisingEdge',
      ExposureTimeAbs: 10000,
      PayloadSize: 262144,
      TestRegister: 305419896,
    });
    expect(await map.get('StructEntry_16_31')).toBe(22136);
    expect(await map.get('StructEntry_15')).toBe(0);
    expect(await map.get('AcquisitionFrameRate')).toBe(25);
    expect(await map.describe('AcquisitionFrameRate')).toMatchObject({ min: 0.1, max: 1000 });
    expect(await map.describe('SensorHeight')).toMatchObject({ access: 'RO', min: 0, max: 4294967295 });
    expect(
      map
        .features()
        .filter((f) => f.depth === 1)
        .map((f) => f.name),
    ).toEqual(expect.arrayContaining(['DeviceControl', 'ImageFormatControl', 'AcquisitionControl']));
  });

  it('updates the SwissKnife PayloadSize after writes, with the register cache on', async () => {
    const port = fakeCameraMemory();
    const map = await NodeMap.load(xml(), port);
    await map.set('Width', 640);
    await map.set('Height', 480);
    await map.set('PixelFormat', 'Mono16');
    expect(await map.get('PayloadSize')).toBe(640 * 480 * 2);
    expect(port.getUint32(0x128)).toBe(17825799);
    const reads = port.reads;
    for (let k = 0; k < 100; k++) expect(await map.get('PayloadSize')).toBe(614400);
    expect(port.reads).toBe(reads);
    expect(map.cacheStats().hits).toBeGreaterThanOrEqual(300);
  });
});
