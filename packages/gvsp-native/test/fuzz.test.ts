import dgram from 'node:dgram';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { binding, SLOW_BUFFER_SIZE } from '../src/index.js';

/**
 * The native parser against random and mutated datagrams, over a minimal reassembler state (every array the
 * engine touches, the state the TypeScript reassembler would hold mid-frame). Nothing may be written outside the
 * slot buffers, nothing may throw; run under AddressSanitizer by scripts/fuzz-asan.sh.
 */
const SLOTS = 3;
const MAX_PACKETS = 64;
const PAYLOAD = 4096;

function state() {
  const n = SLOTS;
  const buffers = Array.from({ length: n }, () => new Uint8Array(PAYLOAD));
  const s = {
    slots: n,
    maxPackets: MAX_PACKETS,
    state: new Uint8Array(n).fill(1), // every slot filling: data packets of blocks 1..3 are placed natively
    blockIds: Float64Array.of(1, 2, 3),
    received: new Uint8Array(n * MAX_PACKETS),
    detectTime: new Float64Array(n * MAX_PACKETS),
    partOffsets: new Float64Array(n * 257),
    partCount: Int32Array.of(2, 2, 2),
    leaderLength: Int32Array.of(100, 100, 100),
    receivedCount: new Int32Array(n),
    resentCount: new Int32Array(n),
    highestId: new Int32Array(n).fill(-1),
    firstMissing: new Int32Array(n),
    lastId: new Int32Array(n).fill(-1),
    lastPacketTime: new Float64Array(n),
    dataEnd: new Float64Array(n),
    sizeMismatch: new Uint8Array(n),
    counters: new Float64Array(23),
    scalars: Float64Array.of(1, 564, 552, 1, 0),
    buffers,
    // counters receivedPackets, transferredBytes, resentPackets, duplicatedPackets; scalars now, dataSize,
    // dataSizeExtended, packetSizeKnown, learnedPacketSize; slot "filling"; part offsets per slot
    layout: Int32Array.of(9, 19, 14, 18, 0, 1, 2, 3, 4, 1, 257),
  };
  s.partOffsets[1] = 3000;
  s.partOffsets[257 + 1] = 4000;
  return s;
}

function pack(datagrams: Uint8Array[]): { bytes: Uint8Array; ends: Int32Array } {
  const total = datagrams.reduce((n, d) => n + d.byteLength, 0);
  const bytes = new Uint8Array(total);
  const ends = new Int32Array(datagrams.length);
  let at = 0;
  datagrams.forEach((d, i) => {
    bytes.set(d, at);
    at += d.byteLength;
    ends[i] = at;
  });
  return { bytes, ends };
}

/** A valid-looking data packet of block 1..3 (standard or extended header) to mutate. */
function dataPacket(format: number, ext: boolean, block: number, packet: number, size: number): Uint8Array {
  const hdr = ext ? 20 : 8;
  const p = new Uint8Array(hdr + size);
  p[4] = (ext ? 0x80 : 0) | format;
  if (ext) {
    p[15] = block;
    p[18] = packet >> 8;
    p[19] = packet & 0xff;
  } else {
    p[3] = block;
    p[7] = packet;
  }
  return p;
}

describe('native parser fuzz', () => {
  test.prop([fc.array(fc.uint8Array({ minLength: 0, maxLength: 1600 }), { maxLength: 200 })], { numRuns: 200 })(
    'random datagrams: placed within bounds or handed to JS, never thrown',
    (datagrams) => {
      const s = state();
      let slow = 0;
      const engine = binding.createEngine(
        s,
        () => {
          slow++;
          return false;
        },
        () => {},
        new Uint8Array(SLOW_BUFFER_SIZE),
      );
      const { bytes, ends } = pack(datagrams);
      const placed = binding.processDatagrams(engine, bytes, ends);
      expect(placed + slow).toBe(datagrams.length);
      for (let i = 0; i < SLOTS; i++) expect(s.dataEnd[i]).toBeLessThanOrEqual(PAYLOAD);
    },
  );

  test.prop(
    [
      fc.array(
        fc.record({
          format: fc.constantFrom(3, 5, 6, 7, 8),
          ext: fc.boolean(),
          block: fc.integer({ min: 1, max: 3 }),
          packet: fc.integer({ min: 0, max: 80 }),
          size: fc.integer({ min: 0, max: 1500 }),
          flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
        }),
        { maxLength: 300 },
      ),
    ],
    { numRuns: 300 },
  )('mutated data packets: every copy stays inside its slot buffer, counters add up', (specs) => {
    const s = state();
    let slow = 0;
    const engine = binding.createEngine(
      s,
      () => {
        slow++;
        return false;
      },
      () => {},
      new Uint8Array(SLOW_BUFFER_SIZE),
    );
    const datagrams = specs.map((x) => {
      const p = dataPacket(x.format, x.ext, x.block, x.packet, x.size);
      for (const [at, v] of x.flips) {
        const k = at % Math.max(1, p.byteLength);
        if (k < p.byteLength) p[k] = p[k]! ^ v;
      }
      return p;
    });
    const { bytes, ends } = pack(datagrams);
    const placed = binding.processDatagrams(engine, bytes, ends);
    expect(placed + slow).toBe(datagrams.length);
    const st = binding.stats(engine);
    expect(st.nativePackets).toBe(placed);
    // placed = received (counted) + duplicates
    expect(s.counters[9]! + s.counters[18]!).toBe(placed);
    for (let i = 0; i < SLOTS; i++) {
      expect(s.dataEnd[i]).toBeLessThanOrEqual(PAYLOAD);
      expect(s.highestId[i]).toBeLessThan(MAX_PACKETS);
    }
  });

  test('arguments are checked: wrong arrays, ends outside the bytes, oversized datagrams', () => {
    const s = state();
    expect(() =>
      binding.createEngine(
        { ...s, received: new Uint8Array(3) },
        () => false,
        () => {},
        new Uint8Array(SLOW_BUFFER_SIZE),
      ),
    ).toThrow(/typed array/);
    expect(() =>
      binding.createEngine(
        s,
        () => false,
        () => {},
        new Uint8Array(100),
      ),
    ).toThrow(/slowBuffer/);
    const engine = binding.createEngine(
      s,
      () => false,
      () => {},
      new Uint8Array(SLOW_BUFFER_SIZE),
    );
    expect(() => binding.processDatagrams(engine, new Uint8Array(10), Int32Array.of(11))).toThrow(RangeError);
    expect(() => binding.processDatagrams(engine, new Uint8Array(10), Int32Array.of(5, 3))).toThrow(RangeError);
    expect(() => binding.processDatagrams(engine, new Uint8Array(70000), Int32Array.of(70000))).toThrow(RangeError);
  });

  test('a callback that throws stops the batch and the exception reaches the caller', () => {
    const s = state();
    let calls = 0;
    const engine = binding.createEngine(
      s,
      () => {
        calls++;
        throw new Error('boom');
      },
      () => {},
      new Uint8Array(SLOW_BUFFER_SIZE),
    );
    const { bytes, ends } = pack([new Uint8Array(3), new Uint8Array(3)]);
    expect(() => binding.processDatagrams(engine, bytes, ends)).toThrow('boom');
    expect(calls).toBe(1);
  });
});

/** The descriptor of a bound dgram socket (Node's internal state, as @cam/gvsp's sender reads it). */
function fdOf(socket: dgram.Socket): number {
  const key = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'state symbol')!;
  return (socket as unknown as Record<symbol, { handle: { fd: number } }>)[key]!.handle.fd;
}

describe('sendBatch with hostile arguments (loopback only)', () => {
  let tx: dgram.Socket;
  let rx: dgram.Socket;
  let received = 0;
  const LOOPBACK = 0x7f000001;
  beforeAll(async () => {
    tx = dgram.createSocket('udp4');
    rx = dgram.createSocket('udp4');
    rx.on('message', () => received++);
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    await new Promise<void>((r) => tx.close(() => r()));
    await new Promise<void>((r) => rx.close(() => r()));
  });

  test('sends exactly the packets asked for, each checked against the buffer', async () => {
    const send = binding.sendBatch!;
    const bytes = new Uint8Array(3000).map((_, i) => i & 0xff);
    const offsets = Int32Array.of(0, 100, 1100, 1100, 3000);
    expect(send(fdOf(tx), bytes, offsets, 0, 4, LOOPBACK, rx.address().port)).toBe(4);
    expect(send(fdOf(tx), bytes, offsets, 1, 2, LOOPBACK, rx.address().port)).toBe(2);
    const end = Date.now() + 2000;
    while (received < 6 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(received).toBe(6);
  });

  test.prop(
    [
      fc.array(fc.integer({ min: -10, max: 80000 }), { minLength: 0, maxLength: 12 }),
      fc.integer({ min: -3, max: 14 }),
      fc.integer({ min: -3, max: 14 }),
      fc.integer({ min: 0, max: 5000 }),
      fc.integer({ min: -1, max: 70000 }),
    ],
    { numRuns: 300 },
  )(
    'bad offsets, ranges, lengths and ports are refused before any send; never a crash',
    (offs, first, count, size, port) => {
      const send = binding.sendBatch!;
      const bytes = new Uint8Array(size);
      const offsets = Int32Array.from(offs);
      let sent: number | undefined;
      try {
        sent = send(fdOf(tx), bytes, offsets, first, count, LOOPBACK, port === 0 ? rx.address().port : port);
      } catch (e) {
        expect((e as { code?: string }).code).toBe('ERR_GVSP_NATIVE_ARGUMENT');
        return;
      }
      expect(sent).toBeGreaterThanOrEqual(0);
      expect(sent).toBeLessThanOrEqual(count);
      // only a valid request gets here
      expect(first >= 0 && count >= 0 && first + count <= offsets.length - 1).toBe(true);
      for (let i = first; i < first + count; i++) {
        expect(offsets[i]! >= 0 && offsets[i + 1]! >= offsets[i]! && offsets[i + 1]! <= size).toBe(true);
        expect(offsets[i + 1]! - offsets[i]!).toBeLessThanOrEqual(65507);
      }
    },
  );

  test('non-typed-array arguments and a bad fd throw typed errors', () => {
    const send = binding.sendBatch! as unknown as (...a: unknown[]) => number;
    const o = Int32Array.of(0, 1);
    const b = new Uint8Array(1);
    expect(() => send(-1, b, o, 0, 1, LOOPBACK, 9)).toThrow(TypeError);
    expect(() => send(fdOf(tx), [1], o, 0, 1, LOOPBACK, 9)).toThrow(/Uint8Array/);
    expect(() => send(fdOf(tx), b, new Uint32Array(2), 0, 1, LOOPBACK, 9)).toThrow(/Int32Array/);
    expect(() => send(fdOf(tx), b, o, 0, 1, LOOPBACK)).toThrow(TypeError);
    expect(() => send(fdOf(tx), b, o, 0, 2, LOOPBACK, 9)).toThrow(/not all in offsets/);
  });
});
