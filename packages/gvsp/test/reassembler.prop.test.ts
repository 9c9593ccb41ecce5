import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  FrameStatus,
  type GvspBlock,
  GvspPayloadType,
  GvspReassembler,
  imageBlock,
  imagePartSpecific,
  type PacketisedBlock,
  PixelFormat,
  packetiseBlock,
} from '../src/index.js';

import { engineTests, makeHarness } from './engines.js';

function mono8Block(width: number, height: number, seed: number): GvspBlock {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed) & 0xff;
  return imageBlock({ pixelFormat: PixelFormat.Mono8, width, height, data, timestamp: 1n });
}

engineTests('reassembly properties', (engine) => {
  test.prop(
    [
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 40 }),
      fc.boolean(),
      fc.integer({ min: 600, max: 2000 }),
      fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 400 }),
      fc.double({ min: 0, max: 0.2, noNaN: true }),
      fc.double({ min: 0, max: 0.3, noNaN: true }),
    ],
    { numRuns: 300 },
  )(
    'any order, loss within budget and duplication reassemble the sent frames',
    (w, hgt, ext, packetSize, shuffle, lossShare, dupShare) => {
      const frames = [mono8Block(w, hgt, 1), mono8Block(w, hgt, 2), mono8Block(w, hgt, 3)];
      const blocks = new Map<number, PacketisedBlock>();
      const pk = frames.map((f, i) => {
        const p = packetiseBlock(f, BigInt(i + 1), packetSize, ext);
        blocks.set(i + 1, p);
        return p;
      });
      const h = makeHarness(engine, w * hgt, packetSize, blocks);
      let t = 0;
      h.tick(t);
      let r = 0;
      const rand = (): number => {
        const v = shuffle[r++ % Math.max(1, shuffle.length)];
        return v ? v[1] : 0.5;
      };
      for (const p of pk) {
        // local reordering inside the frame, loss bounded by the resend ratio (never the whole frame)
        const order = Array.from({ length: p.packetCount }, (_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const budget = Math.floor(p.packetCount * 0.25);
        let lost = 0;
        for (const id of order) {
          if (lost < budget && rand() < lossShare) {
            lost++;
            continue;
          }
          const bytes = p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!);
          h.push(bytes);
          if (rand() < dupShare) h.push(bytes);
        }
      }
      // time passes: the engine asks for what is missing, the harness device answers
      for (let i = 0; i < 300 && h.ended.length < 3; i++) {
        t += 1;
        h.tick(t);
      }
      expect(h.ended.map((e) => e.blockId)).toEqual([1, 2, 3]);
      h.ended.forEach((e, i) => {
        expect(e.status).toBe(FrameStatus.COMPLETE);
        expect(Buffer.compare(e.data, frames[i]!.data)).toBe(0);
      });
    },
  );

  test.prop([fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 200 })], { numRuns: 300 })(
    'random datagrams are counted and dropped, never thrown',
    (dgrams) => {
      const h = makeHarness(engine, 4096, 1500, new Map());
      for (const d of dgrams) h.push(d);
      for (let t = 0; t < 400; t += 10) h.tick(t);
      expect(h.fillingCount).toBe(0);
    },
  );
});

engineTests('reassembly details', (engine) => {
  it('asks for a contiguous gap as one range, after the initial packet timeout', () => {
    const f = mono8Block(100, 100, 1);
    const p = packetiseBlock(f, 1n, 600, false);
    const h = makeHarness(engine, 10000, 600, new Map());
    h.tick(0);
    for (let id = 0; id < p.packetCount; id++) {
      if (id >= 3 && id <= 6) continue;
      const b = p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!);
      h.push(b);
    }
    h.tick(0.5);
    expect(h.requests).toEqual([]);
    h.tick(1.5);
    expect(h.requests).toEqual([[1, 3, 6]]);
    h.tick(10);
    expect(h.requests).toHaveLength(1);
    h.tick(22);
    expect(h.requests).toEqual([
      [1, 3, 6],
      [1, 3, 6],
    ]);
  });

  it('stops asking when the device says the packet is gone, then ends the frame as missing-packets', () => {
    const f = mono8Block(100, 100, 1);
    const p = packetiseBlock(f, 7n, 600, false);
    const h = makeHarness(engine, 10000, 600, new Map());
    h.tick(0);
    for (let id = 0; id < p.packetCount; id++) {
      if (id === 4) continue;
      const b = p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!);
      h.push(b);
    }
    h.tick(2);
    expect(h.requests).toEqual([[7, 4, 4]]);
    // PACKET_UNAVAILABLE (0x800c) for block 7, packet 4
    h.push(Uint8Array.of(0x80, 0x0c, 0, 7, 3, 0, 0, 4));
    h.tick(30);
    expect(h.requests).toHaveLength(1);
    h.tick(200);
    expect(h.ended.map((e) => e.status)).toEqual([FrameStatus.MISSING_PACKETS]);
    expect(h.get('resendDisabled')).toBe(1);
  });

  it('stops asking beyond the packet request ratio', () => {
    const f = mono8Block(200, 100, 1);
    const p = packetiseBlock(f, 1n, 600, false);
    const h = makeHarness(engine, 20000, 600, new Map());
    h.tick(0);
    for (let id = 0; id < p.packetCount; id++) {
      if (id % 2 === 1) continue;
      const b = p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!);
      h.push(b);
    }
    h.tick(2);
    expect(h.get('resendRatioReached')).toBe(1);
    const asked = h.requests.reduce((n, [, a, b]) => n + b - a + 1, 0);
    expect(asked).toBeLessThanOrEqual(Math.floor(p.packetCount * 0.25));
  });

  it('reassembles a multipart block with extended ids', () => {
    const a = new Uint8Array(3000).map((_, i) => i & 0xff);
    const b = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    const part = (len: number, w: number, h: number) => ({
      dataType: 1,
      partLength: len,
      format: PixelFormat.Mono8,
      sourceId: 0,
      additionalZones: 0,
      zoneDirection: 0,
      dataPurposeId: 0,
      regionId: 0,
      dataTypeSpecific: imagePartSpecific({ sizeX: w, sizeY: h, offsetX: 0, offsetY: 0, paddingX: 0, paddingY: 0 }),
    });
    const block: GvspBlock = {
      leader: {
        fieldInfo: 0,
        genericFlags: 0,
        chunksAppended: false,
        payloadType: GvspPayloadType.MULTIPART,
        timestamp: 5n,
        parts: [part(3000, 60, 50), part(1000, 50, 20)],
      },
      trailer: { reserved: 0, payloadType: GvspPayloadType.MULTIPART, chunksAppended: false, parts: [] },
      data: new Uint8Array([...a, ...b]),
    };
    const p = packetiseBlock(block, 1n, 700, true);
    const h = makeHarness(engine, 4000, 700, new Map());
    for (let id = 0; id < p.packetCount; id++) {
      const x = p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!);
      h.push(x);
    }
    expect(h.ended).toHaveLength(1);
    expect(h.ended[0]!.status).toBe(FrameStatus.COMPLETE);
    expect(Buffer.compare(h.ended[0]!.data, block.data)).toBe(0);
  });
});

describe('lent buffers (worker hand-over by transfer)', () => {
  it('keeps a lent slot out of use until its memory comes back, and reassembles into the returned memory', () => {
    const payload = 100 * 100;
    const lent: { slot: number; buffer: ArrayBuffer; blockId: number }[] = [];
    const engine: GvspReassembler = new GvspReassembler(
      { payloadSize: payload, packetSize: 600, slots: 2, resend: false },
      {
        requestResend() {},
        frameReady() {
          for (let slot = engine.take(); slot >= 0; slot = engine.take()) {
            const buf = engine.lendBuffer(slot);
            // what a worker does: transfer the buffer (structuredClone with transfer detaches it here)
            const moved = structuredClone(buf.buffer as ArrayBuffer, { transfer: [buf.buffer as ArrayBuffer] });
            lent.push({ slot, buffer: moved, blockId: engine.blockIds[slot]! });
          }
        },
      },
    );
    const send = (id: number): void => {
      const p = packetiseBlock(mono8Block(100, 100, id), BigInt(id), 600, false);
      for (let k = 0; k < p.packetCount; k++) {
        const b = p.bytes.subarray(p.offsets[k]!, p.offsets[k + 1]!);
        engine.handlePacket(b, b.byteLength);
      }
    };
    send(1);
    send(2);
    expect(lent.map((l) => l.blockId)).toEqual([1, 2]);
    expect(engine.buffers[lent[0]!.slot]!.byteLength).toBe(0); // detached in the engine
    expect(new Uint8Array(lent[0]!.buffer)).toEqual(mono8Block(100, 100, 1).data);
    // release without the memory does not free the slot: a third frame finds no slot (underrun), nothing throws
    engine.release(lent[0]!.slot);
    engine.release(lent[1]!.slot);
    send(3);
    expect(engine.get('underruns')).toBeGreaterThan(0);
    expect(lent).toHaveLength(2);
    expect(() => engine.restoreBuffer(lent[0]!.slot, new ArrayBuffer(5))).toThrow(RangeError);
    for (const l of lent.splice(0)) engine.restoreBuffer(l.slot, l.buffer);
    send(4);
    expect(lent.map((l) => l.blockId)).toEqual([4]);
    expect(new Uint8Array(lent[0]!.buffer)).toEqual(mono8Block(100, 100, 4).data);
    expect(engine.get('completedFrames')).toBe(3);
  });

  it('refuses to lend a slot that is not held, or a view of shared memory', () => {
    const sab = new SharedArrayBuffer(4096);
    const engine: GvspReassembler = new GvspReassembler(
      { payloadSize: 1000, packetSize: 600, slots: 2, allocate: (n) => new Uint8Array(sab, 0, n) },
      { requestResend() {}, frameReady() {} },
    );
    expect(() => engine.lendBuffer(0)).toThrow(RangeError);
    const p = packetiseBlock(mono8Block(10, 10, 1), 1n, 600, false);
    for (let k = 0; k < p.packetCount; k++) {
      const b = p.bytes.subarray(p.offsets[k]!, p.offsets[k + 1]!);
      engine.handlePacket(b, b.byteLength);
    }
    const slot = engine.take();
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(() => engine.lendBuffer(slot)).toThrow(RangeError);
  });
});

engineTests('other data packet formats', (engine) => {
  for (const [dataKind, payloadType] of [
    ['h264', GvspPayloadType.H264],
    ['multizone', GvspPayloadType.MULTIZONE_IMAGE],
    ['gendc', GvspPayloadType.GENDC_CONTAINER],
    ['payload', GvspPayloadType.RAW_DATA],
  ] as const) {
    it(`reassembles ${dataKind} data packets`, () => {
      const data = new Uint8Array(5000).map((_, i) => (i * 13) & 0xff);
      const common = { fieldInfo: 0, genericFlags: 0, chunksAppended: false };
      const leader =
        payloadType === GvspPayloadType.H264
          ? {
              ...common,
              payloadType,
              payloadSize: 5000n,
              packetizationMode: 0,
              packetSize: 1000,
              profileIdc: 0,
              constraintSet: 0,
              levelIdc: 0,
              sropInterleavingDepth: 0,
              sropMaxDonDiff: 0,
              sropDeintBufReq: 0,
              sropInitBufTime: 0,
            }
          : payloadType === GvspPayloadType.MULTIZONE_IMAGE
            ? {
                ...common,
                payloadType,
                timestamp: 1n,
                zoneDirection: 0,
                pixelFormat: PixelFormat.Mono8,
                sizeX: 100,
                sizeY: 50,
                offsetX: 0,
                offsetY: 0,
                paddingX: 0,
                paddingY: 0,
              }
            : payloadType === GvspPayloadType.GENDC_CONTAINER
              ? { ...common, payloadType, timestamp: 1n, payloadSize: 5000n, gendcFlags: 0, descriptorSize: 0 }
              : { ...common, payloadType, timestamp: 1n, payloadSize: 5000n };
      const block: GvspBlock = {
        leader,
        trailer: {
          reserved: 0,
          payloadType,
          chunksAppended: false,
          ...(payloadType === GvspPayloadType.MULTIZONE_IMAGE ? { sizeY: 50 } : {}),
        },
        data,
        dataKind,
      };
      const p = packetiseBlock(block, 3n, 700, dataKind === 'gendc');
      const h = makeHarness(engine, 6000, 700, new Map());
      for (let id = p.packetCount - 1; id >= 0; id--) {
        const x = p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!);
        h.push(x);
      }
      expect(h.ended.map((e) => e.status)).toEqual([FrameStatus.COMPLETE]);
      expect(Buffer.compare(h.ended[0]!.data, data)).toBe(0);
    });
  }
});

engineTests('hostile datagrams', (engine) => {
  it('counts a data packet claiming id 0, or a 48-bit offset past the buffer, and never throws', () => {
    const h = makeHarness(engine, 4096, 1500, new Map());
    // generic payload, block 5, packet id 0
    const p0 = Uint8Array.of(0, 0, 0, 5, 3, 0, 0, 0, 1, 2, 3, 4);
    expect(() => {
      h.push(p0);
      h.sync();
    }).not.toThrow();
    expect(h.get('malformedPackets')).toBe(1);
    // multizone data packet with address offset 0xffff_ffff_ffff
    const mz = Uint8Array.of(0, 0, 0, 6, 6, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 9, 9);
    expect(() => {
      h.push(mz);
      h.sync();
    }).not.toThrow();
    // GenDC data packet (extended header) with a huge destination offset
    const g = new Uint8Array(20 + 16 + 4);
    g[4] = 0x88;
    g[15] = 7;
    g[19] = 1;
    g.fill(0xff, 24, 32);
    expect(() => {
      h.push(g);
      h.sync();
    }).not.toThrow();
    for (let t = 0; t < 300; t += 10) h.tick(t);
    expect(h.fillingCount).toBe(0);
  });

  test.prop(
    [fc.integer({ min: 1, max: 8 }), fc.array(fc.uint8Array({ minLength: 8, maxLength: 64 }), { maxLength: 100 })],
    { numRuns: 300 },
  )('datagrams with a valid format byte and random fields never throw', (format, dgrams) => {
    const h = makeHarness(engine, 4096, 1500, new Map());
    for (const d of dgrams) {
      d[4] = (d[4]! & 0x80) | format;
      h.push(d);
    }
    for (let t = 0; t < 400; t += 10) h.tick(t);
    expect(h.fillingCount).toBe(0);
  });
});
