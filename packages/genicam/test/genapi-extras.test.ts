import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeviceReportedError, MemoryPort, NodeMap, type Port } from '../src/index.js';
import { doc, intReg, mapOf } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

/**
 * A device that multiplexes one register by a selector, as many cameras do: GainSelector at 0x0, Gain at 0x4 holds
 * a separate value per selector entry (no pIndex: the address does not change with the selector).
 */
function multiplexedDevice(): Port & { reads: number } {
  const mem = new MemoryPort(64);
  const gains = [10, 20, 30];
  const dev = {
    reads: 0,
    async read(address: bigint, length: number): Promise<Uint8Array> {
      dev.reads++;
      if (address === 4n) mem.setUint32(4, gains[mem.getUint32(0)] ?? 0);
      return mem.read(address, length);
    },
    async write(address: bigint, data: Uint8Array): Promise<void> {
      await mem.write(address, data);
      if (address === 4n) gains[mem.getUint32(0)] = mem.getUint32(4);
    },
  };
  return dev;
}

const selectorXml = `
  <Enumeration Name="GainSelector">
    <EnumEntry Name="All"><Value>0</Value></EnumEntry>
    <EnumEntry Name="Red"><Value>1</Value></EnumEntry>
    <EnumEntry Name="Blue"><Value>2</Value></EnumEntry>
    <pValue>GainSelectorReg</pValue>
    <pSelected>Gain</pSelected>
    <pSelected>GainPercent</pSelected>
  </Enumeration>
  ${intReg('GainSelectorReg', 0, '<Endianess>BigEndian</Endianess>')}
  <Integer Name="Gain"><pValue>GainReg</pValue></Integer>
  <IntSwissKnife Name="GainPercent"><pVariable Name="R">GainReg</pVariable><Formula>R * 100 / 48</Formula></IntSwissKnife>
  ${intReg('GainReg', 4, '<Endianess>BigEndian</Endianess>')}`;

describe('GenApi selectors, polling, pValueCopy, pAlias, pError', () => {
  it('never returns a stale selected value with caching on (pSelected invalidates what the selected feature reads)', async () => {
    const port = multiplexedDevice();
    const map = await NodeMap.load(doc(selectorXml), port);
    expect(map.cacheEnabled).toBe(true);
    expect(await map.get('Gain')).toBe(10);
    await map.set('GainSelector', 'Red');
    expect(await map.get('Gain')).toBe(20);
    await map.set('GainSelector', 'Blue');
    expect(await map.get('Gain')).toBe(30);
    await map.set('Gain', 33);
    await map.set('GainSelector', 'Red');
    expect(await map.get('Gain')).toBe(20);
    await map.set('GainSelector', 'Blue');
    expect(await map.get('Gain')).toBe(33);
    // through a formula over the same register as well
    await map.set('GainSelector', 'Red');
    expect(await map.get('GainPercent')).toBe(41);
    await map.set('GainSelector', 'Blue');
    expect(await map.get('GainPercent')).toBe(68);
    // and the cache still works while the selector stays put
    const reads = port.reads;
    expect(await map.get('Gain')).toBe(33);
    expect(port.reads).toBe(reads);
  });

  it('re-reads a cached feature once its PollingTime has passed', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const { map, port } = await mapOf(`
      <Integer Name="Temperature"><pValue>TempReg</pValue><PollingTime>1000</PollingTime></Integer>
      ${intReg('TempReg', 0x10, '<Endianess>BigEndian</Endianess>')}
      <Integer Name="Other"><pValue>OtherReg</pValue></Integer>
      ${intReg('OtherReg', 0x14, '<Endianess>BigEndian</Endianess>')}`);
    port.setUint32(0x10, 40);
    port.setUint32(0x14, 1);
    expect(await map.get('Temperature')).toBe(40);
    expect(await map.get('Other')).toBe(1);
    port.setUint32(0x10, 41);
    port.setUint32(0x14, 2);
    vi.advanceTimersByTime(500);
    expect(await map.get('Temperature')).toBe(40); // still within its polling time: cached
    vi.advanceTimersByTime(600);
    expect(await map.get('Temperature')).toBe(41);
    expect(await map.get('Other')).toBe(1); // no PollingTime: cached until written or invalidated
    expect((await map.describe('Temperature')).pollingTime).toBe(1000);
  });

  it('copies a written value to the pValueCopy nodes and reports pAlias', async () => {
    const { map, port } = await mapOf(`
      <Integer Name="Width"><pValue>WidthReg</pValue><pValueCopy>WidthCopy</pValueCopy><pAlias>ImageWidth</pAlias></Integer>
      ${intReg('WidthReg', 0x20, '<Endianess>BigEndian</Endianess>')}
      <Integer Name="WidthCopy"><pValue>WidthCopyReg</pValue></Integer>
      ${intReg('WidthCopyReg', 0x24, '<Endianess>BigEndian</Endianess>')}
      <Integer Name="ImageWidth"><pValue>WidthReg</pValue></Integer>`);
    await map.set('Width', 640);
    expect([port.getUint32(0x20), port.getUint32(0x24)]).toEqual([640, 640]);
    expect(await map.describe('Width')).toMatchObject({ alias: 'ImageWidth', valueCopies: ['WidthCopy'] });
  });

  it('fails an access when its pError enumeration reports an error, naming the error', async () => {
    const { map, port } = await mapOf(`
      <Integer Name="Exposure"><pValue>ExposureReg</pValue><pError>ExposureError</pError></Integer>
      ${intReg('ExposureReg', 0x30, '<Endianess>BigEndian</Endianess>')}
      <Enumeration Name="ExposureError">
        <EnumEntry Name="NoError"><Value>0</Value></EnumEntry>
        <EnumEntry Name="TooLong"><Description>exposure longer than the frame</Description><Value>3</Value></EnumEntry>
        <pValue>ExposureErrorReg</pValue>
      </Enumeration>
      ${intReg('ExposureErrorReg', 0x34, '<Endianess>BigEndian</Endianess><Cachable>NoCache</Cachable>')}`);
    await map.set('Exposure', 100);
    expect(await map.get('Exposure')).toBe(100);
    port.setUint32(0x34, 3);
    const e = await map.set('Exposure', 5000).catch((x: unknown) => x);
    expect(DeviceReportedError.isInstance(e)).toBe(true);
    expect((e as DeviceReportedError).code).toBe(3n);
    expect((e as Error).message).toMatch(/TooLong: exposure longer than the frame/);
    await expect(map.get('Exposure')).rejects.toThrow(/TooLong/);
  });
});
