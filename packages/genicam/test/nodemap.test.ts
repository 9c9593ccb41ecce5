import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeChunks, GenicamXmlError, MemoryPort, NodeMap, type Port, PortAccessError } from '../src/index.js';
import { doc, intReg, mapOf } from './helpers.js';

const BE = '<Endianess>BigEndian</Endianess>';
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** What the imagined GE1280M (fixtures/camera-schema10.xml) holds after power-up: big-endian registers. */
function ge1280mMemory(): MemoryPort {
  const port = new MemoryPort(0x10000);
  const text = (addr: number, s: string): void => port.memory.set(new TextEncoder().encode(s), addr);
  text(0x48, 'cam');
  text(0x68, 'GE1280M');
  text(0x88, '3.7.0');
  text(0xa8, 'made for tests');
  text(0xd8, 'CAM0001280');
  text(0xe8, 'bench');
  for (const [a, v] of [
    [0x0000, 0x00020001], // GigE Vision 2.1
    [0x0008, 0x000002ca], // MAC 02:ca:fe:00:12:34
    [0x000c, 0xfe001234],
    [0x0024, 0x7f000001],
    [0x0938, 3000],
    [0x0940, 1_000_000_000],
    [0x0d04, 0x400005dc], // do not fragment, 1500-byte packets
    [0xa000, 0x01230004], // firmware build 0x0123, sensor state 2
    [0x1000, 1280],
    [0x1004, 1024],
    [0x1010, 1280],
    [0x1014, 1024],
    [0x1020, 1],
    [0x1024, 1],
    [0x1030, 0x01080001], // Mono8
    [0x200c, 40_000], // frame period in us
    [0x2014, 1000], // exposure in 10 us steps
    [0x2120, 1], // AcquisitionStart trigger: mode On, source Software
    [0x2124, 2],
    [0x3000, 100], // analog gain steps
    [0x3010, 0xfffffffc], // black level -4
    [0x5000, 0b101], // lines 0 and 2 high
    [0x5008, 1],
    [0x6008, 1],
    [0xf000, 0x12345678],
  ] as const)
    port.setUint32(a, v);
  const view = new DataView(port.memory.buffer, port.memory.byteOffset);
  view.setFloat32(0xa010, 41.5);
  view.setFloat32(0x212c, 12.5);
  view.setFloat32(0x3014, 1);
  for (let i = 0; i < 252; i++) port.setUint32(0x4000 + 4 * i, i * 16);
  return port;
}

describe('our schema 1.0 GigE camera file (camera-schema10.xml)', () => {
  it('reads every feature to the value its registers give', async () => {
    const map = await NodeMap.load(fixture('camera-schema10.xml'), ge1280mMemory());
    expect(map.schemaVersion).toEqual({ major: 1, minor: 0, subMinor: 1 });
    expect(map.legacyEndianness).toBe(true);
    expect([map.vendorName, map.modelName]).toEqual(['cam', 'GE1280M']);
    expect(map.warnings).toEqual([]);
    const readings = await map.values();
    const values = Object.fromEntries(readings.filter((r) => 'value' in r).map((r) => [r.name, r.value]));
    expect(values).toEqual({
      DeviceVendorName: 'cam',
      DeviceModelName: 'GE1280M',
      DeviceVersion: '3.7.0',
      DeviceManufacturerInfo: 'made for tests',
      DeviceID: 'CAM0001280',
      DeviceUserID: 'bench',
      DeviceScanType: 'Areascan',
      DeviceTemperature: 41.5,
      DeviceOverTemperature: 0,
      DeviceSensorState: 2,
      DeviceFirmwareBuild: 0x0123,
      SensorWidth: 1280,
      SensorHeight: 1024,
      WidthMax: 1280,
      HeightMax: 1024,
      Width: 1280,
      Height: 1024,
      OffsetX: 0,
      OffsetY: 0,
      BinningHorizontal: 1,
      BinningVertical: 1,
      ReverseX: false,
      ReverseY: false,
      PixelFormat: 'Mono8',
      PixelSize: 'Bpp8',
      TestPattern: 'Off',
      AcquisitionMode: 'Continuous',
      AcquisitionFrameRate: 25,
      ExposureAuto: 'Off',
      ExposureTimeRaw: 1000,
      ExposureTimeAbs: 10000,
      TriggerSelector: 'FrameStart',
      TriggerMode: 'Off',
      TriggerSource: 'Line0',
      TriggerActivation: 'RisingEdge',
      TriggerDelayAbs: 0,
      GainSelector: 'AnalogAll',
      GainRaw: 100,
      Gain: 5,
      BlackLevelRaw: -4,
      Gamma: 1,
      LUTEnable: false,
      LUTIndex: 0,
      LUTValue: 0,
      LineSelector: 'Line0',
      LineMode: 'Input',
      LineInverter: false,
      LineStatus: true,
      LineStatusAll: 5,
      PayloadSize: 1280 * 1024,
      GevVersionMajor: 2,
      GevVersionMinor: 1,
      GevMACAddress: 0x02cafe001234,
      GevCurrentIPAddress: 0x7f000001,
      GevHeartbeatTimeout: 3000,
      GevTimestampTickFrequency: 1_000_000_000,
      GevSCPSPacketSize: 1500,
      GevSCPSDoNotFragment: 1,
      UserSetSelector: 'Default',
      UserSetDefaultSelector: 'UserSet1',
      TestRegister: 0x12345678,
      TestRegisterHigh: 0x1234,
      TestRegisterLowBit: 0,
    });
    // what has no value: categories and commands, and a feature that is not available in this mode
    const without = readings.filter((r) => !('value' in r));
    expect(without.filter((r) => r.type !== 'Category' && r.type !== 'Command').map((r) => r.name)).toEqual([
      'AcquisitionFrameCount',
    ]);
    expect(await map.accessMode('AcquisitionFrameCount')).toBe('NA');
    expect(await map.describe('AcquisitionFrameRate')).toMatchObject({ min: 0.1, max: 1000, unit: 'Hz' });
    expect(await map.describe('SensorHeight')).toMatchObject({ access: 'RO', min: 0, max: 4294967295 });
    expect(await map.describe('Width')).toMatchObject({ access: 'RW', min: 16, max: 1280, inc: 16 });
    expect(await map.describe('GevMACAddress')).toMatchObject({ access: 'RO', representation: 'MACAddress' });
    expect((await map.describe('PixelFormat')).entries?.filter((e) => e.available).map((e) => e.name)).toEqual([
      'Mono8',
      'Mono10',
      'Mono12',
      'Mono16',
    ]);
    expect((await map.describe('DeviceScanType')).entries?.map((e) => e.name)).toEqual(['Areascan']);
    expect(
      map
        .features()
        .filter((f) => f.depth === 1)
        .map((f) => f.name),
    ).toEqual([
      'DeviceControl',
      'ImageFormatControl',
      'AcquisitionControl',
      'AnalogControl',
      'LUTControl',
      'DigitalIOControl',
      'TransportLayerControl',
      'UserSetControl',
      'Debug',
    ]);
  });

  it('updates the SwissKnife PayloadSize after writes, with the register cache on', async () => {
    const port = ge1280mMemory();
    const map = await NodeMap.load(fixture('camera-schema10.xml'), port);
    await map.set('Width', 640);
    await map.set('Height', 480);
    await map.set('PixelFormat', 'Mono16');
    expect(await map.get('PayloadSize')).toBe(640 * 480 * 2);
    expect(port.getUint32(0x1030)).toBe(0x01100007);
    expect(await map.get('PixelSize')).toBe('Bpp16');
    const reads = port.reads;
    for (let k = 0; k < 100; k++) expect(await map.get('PayloadSize')).toBe(614400);
    expect(port.reads).toBe(reads);
    expect(map.cacheStats().hits).toBeGreaterThanOrEqual(300);
  });

  it('selectors: register addresses from pIndex, values from ValueIndexed, and what each selector selects', async () => {
    const map = await NodeMap.load(fixture('camera-schema10.xml'), ge1280mMemory());
    expect((await map.describe('TriggerSelector')).selected).toEqual([
      'TriggerMode',
      'TriggerSource',
      'TriggerActivation',
      'TriggerDelayAbs',
      'TriggerSoftware',
    ]);
    await map.set('TriggerSelector', 'AcquisitionStart');
    expect([await map.get('TriggerMode'), await map.get('TriggerSource'), await map.get('TriggerDelayAbs')]).toEqual([
      'On',
      'Software',
      12.5,
    ]);
    expect((await map.describe('TriggerModeReg')).address).toBe(0x2120n);
    await map.set('GainSelector', 'DigitalAll');
    await map.set('Gain', 2.5);
    expect(await map.get('GainRaw')).toBe(50);
    await map.set('GainSelector', 'AnalogAll');
    expect(await map.get('Gain')).toBe(5);
    await map.set('LUTIndex', 10);
    expect(await map.get('LUTValue')).toBe(160);
    const lines: unknown[] = [];
    for (const line of ['Line0', 'Line1', 'Line2']) {
      await map.set('LineSelector', line);
      lines.push([await map.get('LineMode'), await map.get('LineStatus')]);
    }
    expect(lines).toEqual([
      ['Input', true],
      ['Output', false],
      ['Output', true],
    ]);
    // Line2's mode is a register; the fixed ones are literals
    await map.set('LineMode', 'Input');
    expect(await map.get('LineMode')).toBe('Input');
  });

  it('locks, availability, invalidators, bit fields and commands', async () => {
    const port = ge1280mMemory();
    const map = await NodeMap.load(fixture('camera-schema10.xml'), port);
    await map.set('TLParamsLocked', 1);
    expect(await map.accessMode('Width')).toBe('RO');
    expect(await map.accessMode('PixelFormat')).toBe('RO');
    await expect(map.set('Width', 640)).rejects.toBeInstanceOf(Error);
    await map.set('TLParamsLocked', 0);
    await map.set('AcquisitionMode', 'MultiFrame');
    expect(await map.accessMode('AcquisitionFrameCount')).toBe('RW');
    await map.set('ExposureAuto', 'Continuous');
    expect(await map.accessMode('ExposureTimeAbs')).toBe('RO');
    // the camera halves Width when binning changes; the invalidator makes us read it again
    expect(await map.get('Width')).toBe(1280);
    port.setUint32(0x1010, 640);
    await map.set('BinningHorizontal', 2);
    expect(await map.get('Width')).toBe(640);
    expect(await map.get('WidthMax')).toBe(640);
    await map.set('ReverseY', true);
    expect(port.getUint32(0x1028)).toBe(0x2);
    await map.set('ReverseX', true);
    expect(port.getUint32(0x1028)).toBe(0x3);
    await map.set('GevSCPSPacketSize', 9000);
    expect(port.getUint32(0x0d04)).toBe(0x40002328);
    await map.execute('TriggerSoftware');
    expect(port.getUint32(0x2110)).toBe(1);
    expect(await map.accessMode('UserSetSave')).toBe('NA');
    await map.set('UserSetSelector', 'UserSet2');
    await map.execute('UserSetSave');
    expect(port.getUint32(0x6004)).toBe(2);
  });
});

/** The imagined CX2048 (fixtures/camera-schema11-indexed.xml): registers in a window at 0x1_0000_0000. */
function cx2048Memory(): MemoryPort {
  const port = new MemoryPort(0x10000, 0x1_0000_0000n);
  const view = new DataView(port.memory.buffer, port.memory.byteOffset);
  const text = (addr: number, s: string): void => port.memory.set(new TextEncoder().encode(s), addr);
  text(0x2000, 'cam');
  text(0x2020, 'CX2048');
  text(0x2040, 'CX24-000117');
  view.setUint32(0x0000, 0xc0a79ae5); // big-endian bootstrap registers
  view.setUint32(0x0004, 0x00020000);
  view.setUint32(0x4010, 0x00480002);
  view.setUint32(0x4014, 0x00480002);
  view.setUint32(0x2050, 0x00020e05, true); // firmware 2.14.5
  port.memory.set([0x63, 0x61, 0x6d, 0, 1, 2, 3, 4], 0x2060);
  view.setFloat64(0x2100, 38.25, true);
  view.setFloat32(0x2108, 45.5);
  view.setBigUint64(0x2110, 86_400n, true);
  view.setBigUint64(0x2128, 1_234_567_890_123n, true);
  view.setUint32(0x3000, 2048, true);
  view.setUint32(0x3004, 1536, true);
  view.setUint32(0x3014, 0x010c0047, true); // Mono12p
  view.setUint16(0x3018, 0x0051, true);
  view.setInt16(0x5000, -250, true);
  view.setUint32(0x5004, 0xab000010, true);
  view.setUint32(0x6000, 0x80000000, true);
  view.setUint32(0x6004, 0b101, true);
  view.setUint16(0x7004, 3, true);
  view.setFloat64(0x8008, 100, true);
  view.setUint32(0x8010, 1, true);
  view.setUint32(0x8014, 80_000, true);
  view.setUint16(0x8104, 1, true);
  view.setUint16(0x8106, 2, true);
  return port;
}

describe('our schema 1.1 CoaXPress camera file (camera-schema11-indexed.xml)', () => {
  it('reads every feature at 64-bit addresses, each register in its declared byte order', async () => {
    const map = await NodeMap.load(fixture('camera-schema11-indexed.xml'), cx2048Memory());
    expect(map.schemaVersion).toEqual({ major: 1, minor: 1, subMinor: 0 });
    expect(map.legacyEndianness).toBe(false);
    expect(map.warnings).toEqual([]);
    const readings = await map.values();
    const values = Object.fromEntries(readings.filter((r) => 'value' in r).map((r) => [r.name, r.value]));
    expect(values).toEqual({
      DeviceVendorName: 'cam',
      DeviceModelName: 'CX2048',
      DeviceSerialNumber: 'CX24-000117',
      DeviceFirmwareVersion: 21405,
      DeviceUserData: new Uint8Array([0x63, 0x61, 0x6d, 0, 1, 2, 3, 4]),
      DeviceUserLabel: 'line 3 camera',
      DeviceTemperatureSelector: 'Sensor',
      DeviceTemperature: 38.25,
      DeviceUptime: 86400,
      TimestampLatchValue: 1234567890123,
      SensorWidth: 2048,
      SensorHeight: 1536,
      Width: 2048,
      Height: 1536,
      OffsetX: 0,
      OffsetY: 0,
      BinningHorizontal: 1,
      BinningVertical: 1,
      PixelFormat: 'Mono12p',
      PixelDynamicRangeMax: 4095,
      ImageStatus: 0x51,
      AcquisitionFrameRate: 100,
      AcquisitionFrameRateMax: 142.5,
      ExposureMode: 'Timed',
      ExposureTime: 10000,
      TriggerSelector: 'FrameStart',
      TriggerMode: 'Off',
      TriggerSource: 'CXPin',
      GainSelector: 'AnalogAll',
      Gain: -2.5,
      BlackLevel: 16,
      Standard: 0xc0a79ae5,
      Revision: 0x00020000,
      CxpLinkConfiguration: 'CXP6_X2',
      CxpLinkConfigurationStatus: 'CXP6_X2',
      DeviceConnectionCount: 2,
      ChunkModeActive: true,
      ChunkSelector: 'Timestamp',
      ChunkEnable: true,
      EventNotification: 'Off',
      serviceDefectPixelCount: 3,
    });
    // chunk and event features wait for data; a write-only register has no value
    expect(
      readings.filter((r) => !('value' in r) && r.type !== 'Category' && r.type !== 'Command').map((r) => r.name),
    ).toEqual([
      'ChunkTimestamp',
      'ChunkExposureTime',
      'ChunkFrameID',
      'EventExposureEnd',
      'EventExposureEndTimestamp',
      'serviceUnlockCode',
    ]);
    expect((await map.describe('DeviceVendorName')).address).toBe(0x1_0000_2000n);
    expect((await map.describe('CxpLinkConfigurationStatus')).entries?.map((e) => e.name)).toContain('None');
    expect(
      (await map.describe('CxpLinkConfiguration')).entries?.filter((e) => !e.available).map((e) => e.name),
    ).toEqual(['CXP12_X2']);
    expect(await map.describe('SensorWidth')).toMatchObject({ access: 'RO', namespace: 'Standard' });
    expect(await map.describe('ExposureTime')).toMatchObject({ unit: 'us', alias: 'ExposureTimeReg' });
    expect(
      map
        .features()
        .filter((f) => f.category === 'DeviceControl' && f.type === 'Category')
        .map((f) => [f.name, f.depth]),
    ).toEqual([['DeviceInformation', 2]]);
  });

  it('pIndex picks values (ValueIndexed, pValueIndexed with a default) and register addresses', async () => {
    const port = cx2048Memory();
    const map = await NodeMap.load(fixture('camera-schema11-indexed.xml'), port);
    await map.set('DeviceTemperatureSelector', 'Mainboard');
    expect(await map.get('DeviceTemperature')).toBe(45.5);
    const ranges: unknown[] = [];
    for (const pf of ['Mono8', 'Mono10', 'Mono12p', 'Mono16']) {
      await map.set('PixelFormat', pf);
      ranges.push(await map.get('PixelDynamicRangeMax'));
    }
    expect(ranges).toEqual([255, 1023, 4095, 65535]);
    await map.set('BinningVertical', 2);
    expect(await map.get('AcquisitionFrameRateMax')).toBe(280);
    expect(await map.describe('AcquisitionFrameRate')).toMatchObject({ min: 1, max: 280 });
    expect(port.memory[0x3011]).toBe(1); // log2 of 2, in bits 8-9
    await map.set('BinningVertical', 4);
    expect(await map.get('AcquisitionFrameRateMax')).toBe(540.25);
    expect(await map.get('Height')).toBe(1536); // the register, until the camera changes it
    expect((await map.describe('Height')).max).toBe(384);
    await map.set('GainSelector', 'DigitalAll');
    expect(await map.get('Gain')).toBe(1);
    await map.set('GainSelector', 'AnalogAll');
    await map.set('Gain', 6.5);
    expect(new DataView(port.memory.buffer).getInt16(0x5000, true)).toBe(650);
    await map.set('TriggerSelector', 'ExposureActive');
    expect([await map.get('TriggerMode'), await map.get('TriggerSource')]).toEqual(['On', 'Line0']);
    expect((await map.describe('TriggerSourceReg')).address).toBe(0x1_0000_8106n);
    await map.set('ExposureMode', 'TriggerWidth');
    expect(await map.accessMode('ExposureTime')).toBe('NA');
    expect(await map.accessMode('serviceFactoryReset')).toBe('NA'); // a locked write-only command
  });

  it('chunk and event ports read the attached data', async () => {
    const map = await NodeMap.load(fixture('camera-schema11-indexed.xml'), cx2048Memory());
    const ts = new Uint8Array(8);
    new DataView(ts.buffer).setBigUint64(0, 5_000_000_123n);
    const exposure = new Uint8Array(4);
    new DataView(exposure.buffer).setFloat32(0, 9999.5);
    const frame = new Uint8Array(8);
    new DataView(frame.buffer).setUint32(4, 77);
    expect(
      map.attachChunkData(
        encodeChunks([
          { id: 0xc0a1, data: ts },
          { id: 0xc0a2, data: exposure },
          { id: 0xc0a3, data: frame },
        ]),
      ),
    ).toEqual([0xc0a1, 0xc0a2, 0xc0a3]);
    expect(await map.get('ChunkTimestamp')).toBe(5_000_000_123);
    expect(await map.get('ChunkExposureTime')).toBe(9999.5);
    expect(await map.get('ChunkFrameID')).toBe(77);
    const event = new Uint8Array(16);
    new DataView(event.buffer).setUint16(0, 0x9001);
    new DataView(event.buffer).setBigUint64(8, 42n);
    map.attachEventData(0x9001, event); // EventID is hexBinary
    expect(await map.get('EventExposureEnd')).toBe(0x9001);
    expect(await map.get('EventExposureEndTimestamp')).toBe(42);
  });
});

describe('register cache', () => {
  const body = `
    <Integer Name="A"><pValue>AReg</pValue></Integer>
    ${intReg('AReg', 0, `${BE}<pInvalidator>Trigger</pInvalidator>`)}
    ${intReg('NoCache', 4, `${BE}<Cachable>NoCache</Cachable>`)}
    ${intReg('Around', 8, `${BE}<Cachable>WriteAround</Cachable>`)}
    ${intReg('Alias', 0, BE)}
    <Integer Name="Trigger"><pValue>TrigReg</pValue></Integer>
    ${intReg('TrigReg', 12, BE)}`;

  it('serves repeated reads from the cache, writes through, and re-reads NoCache registers', async () => {
    const { map, port } = await mapOf(body);
    await map.get('A');
    await map.get('A');
    expect(port.log.filter((l) => l.op === 'read' && l.address === 0n)).toHaveLength(1);
    await map.set('A', 3);
    expect(await map.get('A')).toBe(3);
    expect(port.log.filter((l) => l.op === 'read' && l.address === 0n)).toHaveLength(1);
    await map.get('NoCache');
    await map.get('NoCache');
    expect(port.log.filter((l) => l.op === 'read' && l.address === 4n)).toHaveLength(2);
    await map.set('Around', 5);
    expect(await map.get('Around')).toBe(5);
    expect(port.log.filter((l) => l.op === 'read' && l.address === 8n)).toHaveLength(1);
  });

  it('invalidates on pInvalidator writes and on writes to overlapping registers', async () => {
    const { map, port } = await mapOf(body);
    expect(await map.get('A')).toBe(0);
    port.setUint32(0, 11);
    expect(await map.get('A')).toBe(0);
    await map.set('Trigger', 1);
    expect(await map.get('A')).toBe(11);
    await map.set('Alias', 12);
    expect(await map.get('A')).toBe(12);
  });

  it('can be switched off and emptied', async () => {
    const { map, port } = await mapOf(body, { cache: false });
    expect(map.cacheEnabled).toBe(false);
    await map.get('A');
    port.setUint32(0, 9);
    expect(await map.get('A')).toBe(9);
    map.cacheEnabled = true;
    await map.get('A');
    port.setUint32(0, 10);
    expect(await map.get('A')).toBe(9);
    map.invalidateCache();
    expect(await map.get('A')).toBe(10);
    expect(map.cacheStats().entries).toBe(1);
  });
});

describe('legacy endianness (schema < 1.1)', () => {
  const body = `${intReg('R', 0)}${intReg('Short', 4, '', 2)}`;

  it('uses register accesses and big-endian decoding for 4-byte registers under schema 1.0', async () => {
    const { map, port } = await mapOf(body, { schema: '1.0' });
    expect(map.legacyEndianness).toBe(true);
    port.setUint32(0, 0x01020304);
    port.memory.set([0x01, 0x02], 4);
    expect(await map.get('R')).toBe(0x01020304);
    expect(await map.get('Short')).toBe(0x0201);
    expect(port.log.map((l) => l.register)).toEqual([true, false]);
    await map.set('R', 0x0a0b0c0d);
    expect(port.getUint32(0)).toBe(0x0a0b0c0d);
  });

  it('leaves chunk-data ports out of the legacy mechanism', async () => {
    const chunk = new MemoryPort(16);
    chunk.memory.set([1, 2, 3, 4], 0);
    const { map } = await mapOf(
      `<Port Name="ChunkPort"><ChunkID>11</ChunkID></Port>
      <IntReg Name="C"><Address>0</Address><Length>4</Length><AccessMode>RO</AccessMode><pPort>ChunkPort</pPort></IntReg>`,
      { schema: '1.0', ports: { ChunkPort: chunk } },
    );
    expect(await map.get('C')).toBe(0x04030201);
    expect(chunk.log[0]?.register).toBe(false);
  });

  it('decodes as declared (default little-endian) under schema 1.1, or when turned off', async () => {
    for (const { map, port } of [await mapOf(body), await mapOf(body, { schema: '1.0', legacyEndianness: false })]) {
      expect(map.legacyEndianness).toBe(false);
      port.setUint32(0, 0x01020304);
      expect(await map.get('R')).toBe(0x04030201);
      expect(port.log.every((l) => !l.register)).toBe(true);
    }
  });
});

describe('ports that fail', () => {
  const failing: Port = {
    read: async () => {
      throw new Error('link down');
    },
    write: async () => {
      throw new Error('link down');
    },
  };

  it('wraps port errors in PortAccessError naming the feature, address and cause', async () => {
    const map = await NodeMap.load(doc(`<Integer Name="W"><pValue>R</pValue></Integer>${intReg('R', 0x100)}`), failing);
    const e = await map.get('W').catch((x: unknown) => x);
    expect(PortAccessError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ feature: 'W', address: 0x100n, length: 4 });
    expect((e as Error).message).toContain('link down');
    await expect(map.set('W', 1)).rejects.toBeInstanceOf(PortAccessError);
  });

  it('rejects short reads', async () => {
    const short: Port = { read: async () => new Uint8Array(2), write: async () => {} };
    const map = await NodeMap.load(doc(intReg('R', 0)), short);
    await expect(map.get('R')).rejects.toMatchObject({ name: 'PortAccessError', cause: { name: 'TruncatedError' } });
  });

  it('passes an aborted signal through unwrapped', async () => {
    const { map } = await mapOf(intReg('R', 0));
    const ac = new AbortController();
    ac.abort();
    const e = await map.get('R', { signal: ac.signal }).catch((x: unknown) => x);
    expect(PortAccessError.isInstance(e)).toBe(false);
    expect((e as Error).name).toBe('AbortError');
  });
});

describe('XML input', () => {
  it.each([
    ['not xml', 'hello'],
    ['unclosed', '<RegisterDescription><Integer Name="A"></RegisterDescription>'],
    ['wrong root', '<Foo/>'],
    ['empty', ''],
    ['garbage before', `Camera 1 (192.168.0.2)\n${doc('')}`],
    ['undeclared entity', doc('<Integer Name="A"><Value>&foo;</Value></Integer>')],
    ['NUL inside', `${doc('').slice(0, 50)}\0${doc('').slice(50)}`],
    ['mismatched', '<RegisterDescription><a></b></RegisterDescription>'],
  ])('%s -> GenicamXmlError', async (_label, xml) => {
    await expect(NodeMap.load(xml, new MemoryPort(4))).rejects.toBeInstanceOf(GenicamXmlError);
  });

  it('does not expand DTD entities (no billion laughs)', async () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
      ${doc('<String Name="S"><Value>&b;</Value></String>').replace(/^<\?xml[^>]*>/, '')}`;
    await expect(NodeMap.load(xml, new MemoryPort(4))).rejects.toMatchObject({
      name: 'GenicamXmlError',
      message: /&b;/,
    });
  });

  it('decodes predefined entities, character references, CDATA; accepts bytes, a BOM and NUL padding', async () => {
    const xml = doc(`<String Name="S"><Value>a&amp;b&#x41;&#66;&lt;</Value></String>
      <IntSwissKnife Name="K"><Formula><![CDATA[(6 & 3) << 1]]></Formula></IntSwissKnife>`);
    const bytes = new TextEncoder().encode(`\ufeff${xml}\0\0\0\0`);
    const map = await NodeMap.load(bytes, new MemoryPort(4));
    expect(await map.get('S')).toBe('a&bAB<');
    expect(await map.get('K')).toBe(4);
  });

  it('reads the schema version from attributes or, failing that, the namespace', async () => {
    const map = await NodeMap.load(
      '<RegisterDescription xmlns="http://www.genicam.org/GenApi/Version_1_1"><Port Name="Device"/></RegisterDescription>',
      new MemoryPort(4),
    );
    expect(map.schemaVersion).toEqual({ major: 1, minor: 1, subMinor: 0 });
    expect(map.legacyEndianness).toBe(false);
  });

  it('flattens Group elements', async () => {
    const { map } = await mapOf('<Group Comment="g"><Integer Name="InGroup"><Value>4</Value></Integer></Group>');
    expect(await map.get('InGroup')).toBe(4);
  });
});
