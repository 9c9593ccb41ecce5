import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GenicamXmlError, MemoryPort, NodeMap, type Port, PortAccessError } from '../src/index.js';
import { doc, intReg, mapOf } from './helpers.js';

const BE = '<Endianess>BigEndian</Endianess>';
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** The registers arv-fake-gv-camera-0.8 starts with (src/arvfakecamera.c defaults, read back with arv-tool). */
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

describe('the Aravis fake camera XML', () => {
  it('reads every feature the way arv-tool-0.8 values shows them', async () => {
    const map = await NodeMap.load(fixture('aravis-fake-camera.xml'), fakeCameraMemory());
    expect(map.schemaVersion).toEqual({ major: 1, minor: 0, subMinor: 1 });
    expect(map.legacyEndianness).toBe(true);
    const values = Object.fromEntries((await map.values()).filter((r) => 'value' in r).map((r) => [r.name, r.value]));
    expect(values).toEqual({
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
    ).toEqual(['DeviceControl', 'ImageFormatControl', 'AcquisitionControl', 'TransportLayerControl', 'Debug']);
  });

  it('updates the SwissKnife PayloadSize after writes, with the register cache on', async () => {
    const port = fakeCameraMemory();
    const map = await NodeMap.load(fixture('aravis-fake-camera.xml'), port);
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
