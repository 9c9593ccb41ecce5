import { MalformedError } from '@cam/net-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Chunk, decodeChunks, encodeChunks, encodedLengthChunks } from '../src/index.js';
import { mapOf } from './helpers.js';

const chunkArb = fc.record({
  id: fc.integer({ min: 0, max: 0xffff_ffff }),
  data: fc.integer({ min: 0, max: 16 }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n })),
});

describe('GigE Vision chunk layout', () => {
  it('decodes what it encodes, and the length it computes is what it writes', () => {
    fc.assert(
      fc.property(fc.array(chunkArb, { maxLength: 12 }), (chunks: Chunk[]) => {
        const bytes = encodeChunks(chunks);
        expect(bytes.byteLength).toBe(encodedLengthChunks(chunks));
        const back = decodeChunks(bytes);
        expect(back.map((c) => c.id)).toEqual(chunks.map((c) => c.id >>> 0));
        expect(back.map((c) => Array.from(c.data))).toEqual(chunks.map((c) => Array.from(c.data)));
      }),
    );
  });

  it('gives chunks or a MalformedError for any bytes, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const chunks = decodeChunks(bytes);
          expect(chunks.reduce((n, c) => n + c.data.byteLength + 8, 0)).toBeLessThanOrEqual(bytes.byteLength + 8);
        } catch (e) {
          expect(MalformedError.isInstance(e)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    // a length that runs before the payload is refused with its offset
    const bad = encodeChunks([
      { id: 1, data: new Uint8Array(4) },
      { id: 2, data: new Uint8Array(4) },
    ]);
    new DataView(bad.buffer).setUint32(bad.byteLength - 4, 1000);
    expect(() => decodeChunks(bad)).toThrow(/chunk 0x2 of 1000 bytes runs before the payload/);
    expect(() => decodeChunks(Uint8Array.of(1, 2, 3))).toThrow(/3 bytes before the first chunk tag/);
  });

  it('accepts appended chunk data whose first tag belongs to the image before it', () => {
    const body = encodeChunks([{ id: 0x101, data: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 9) }]);
    const appended = new Uint8Array(8 + body.byteLength);
    new DataView(appended.buffer).setUint32(0, 0x1);
    new DataView(appended.buffer).setUint32(4, 640 * 480);
    appended.set(body, 8);
    expect(decodeChunks(appended).map((c) => [c.id, c.data.byteLength])).toEqual([
      [0x1, 0],
      [0x101, 8],
    ]);
  });
});

describe('NodeMap chunk and event adapters', () => {
  const xml = `
  <Port Name="TsPort"><ChunkID>101</ChunkID></Port>
  <IntReg Name="ChunkTsReg"><Address>0</Address><Length>8</Length><AccessMode>RO</AccessMode><pPort>TsPort</pPort>
    <Sign>Unsigned</Sign><Endianess>BigEndian</Endianess></IntReg>
  <Integer Name="ChunkTs"><pValue>ChunkTsReg</pValue></Integer>
  <Port Name="EvPort"><EventID>9001</EventID></Port>
  <IntReg Name="EvReg"><Address>4</Address><Length>4</Length><AccessMode>RO</AccessMode><pPort>EvPort</pPort>
    <Sign>Unsigned</Sign><Endianess>BigEndian</Endianess></IntReg>
  <Integer Name="EventValue"><pValue>EvReg</pValue></Integer>`;

  it('reads each frame its own chunk values with the cache on, and NotAvailable without the chunk', async () => {
    const { map } = await mapOf(xml);
    expect(map.cacheEnabled).toBe(true);
    const frame = (v: bigint): Uint8Array => {
      const d = new Uint8Array(8);
      new DataView(d.buffer).setBigUint64(0, v);
      return encodeChunks([{ id: 0x101, data: d }]);
    };
    await expect(map.get('ChunkTs')).rejects.toThrow(/not available/);
    map.attachChunkData(frame(5n));
    expect(await map.get('ChunkTs')).toBe(5);
    map.attachChunkData(frame(6n));
    expect(await map.get('ChunkTs')).toBe(6);
    map.attachChunkData(encodeChunks([{ id: 0x999, data: new Uint8Array(4) }]));
    await expect(map.get('ChunkTs')).rejects.toThrow(/not available/);
    await expect(map.set('ChunkTs', 1)).rejects.toThrow();
  });

  it('reads EVENTDATA through the Port with that EventID', async () => {
    const { map } = await mapOf(xml);
    map.attachEventData(0x9001, Uint8Array.of(0, 0, 0, 0, 0, 0, 1, 2));
    expect(await map.get('EventValue')).toBe(0x102);
    // another event leaves this one's data in place; the same event replaces it
    map.attachEventData(0x9002, Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9));
    expect(await map.get('EventValue')).toBe(0x102);
    map.attachEventData(0x9001, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 7));
    expect(await map.get('EventValue')).toBe(7);
  });
});
