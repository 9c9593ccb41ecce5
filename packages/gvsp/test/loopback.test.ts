import { afterEach, describe, expect, it } from 'vitest';
import { describeInterop } from '../../../test-support/interop.js';
import {
  type GvspFrame,
  GvspPayloadType,
  GvspReceiver,
  GvspSender,
  imagePartSpecific,
  PixelFormat,
  TestPatternRenderer,
} from '../src/index.js';
import { nativeBinding } from './engines.js';

interface Variant {
  engine: 'js' | 'native';
  capture?: 'recvmmsg' | 'packet-ring';
}
/** Every receive path: Node's dgram, native recvmmsg batches, the native packet ring (root: CAP_NET_RAW). */
const VARIANTS: { variant: Variant; needs: Record<string, boolean> }[] = [
  { variant: { engine: 'js' }, needs: {} },
  { variant: { engine: 'native', capture: 'recvmmsg' }, needs: { '@cam/gvsp-native (built)': !!nativeBinding } },
  {
    variant: { engine: 'native', capture: 'packet-ring' },
    needs: { '@cam/gvsp-native (built)': !!nativeBinding, 'root (CAP_NET_RAW)': process.getuid?.() === 0 },
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pair(opts: {
  width: number;
  height: number;
  pixelFormat: number;
  packetSize?: number;
  extendedId?: boolean;
  loss?: { drop?: number; duplicate?: number; reorder?: number; seed?: number };
  resend?: boolean;
  worker?: boolean;
  copyFrames?: boolean;
  engine?: Variant['engine'];
  capture?: Variant['capture'];
}) {
  const pattern = new TestPatternRenderer(opts);
  const packetSize = opts.packetSize ?? 1500;
  const sender = await GvspSender.open({
    bindAddress: '127.0.0.1',
    packetSize,
    extendedId: opts.extendedId ?? false,
    resendPort: 0,
    loss: opts.loss ?? {},
    bandwidth: 200e6,
  });
  cleanups.push(() => sender.close());
  const rx = await GvspReceiver.open({
    address: '127.0.0.1',
    payloadSize: pattern.byteSize,
    packetSize,
    resend: opts.resend ?? true,
    device: { address: '127.0.0.1', port: sender.resendPort! },
    worker: opts.worker ?? false,
    copyFrames: opts.copyFrames ?? false,
    slots: 8,
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.capture ? { capture: opts.capture } : {}),
  });
  cleanups.push(() => rx.close());
  sender.setDestination('127.0.0.1', rx.port);
  return { sender, rx, pattern };
}

/** Sends `n` frames (paced so the consumer keeps up) and collects what arrives. */
async function run(p: Awaited<ReturnType<typeof pair>>, n: number) {
  const sent: Uint8Array[] = [];
  const got: { status: string; data: Uint8Array; blockId: bigint; frame: GvspFrame }[] = [];
  const consumer = (async () => {
    for (;;) {
      const f = await p.rx.nextFrame({ timeoutMs: 3000 });
      if (!f) break;
      got.push({ status: f.status, data: f.data.slice(), blockId: f.blockId, frame: f });
      f.release();
      if (got.length === n) break;
    }
  })();
  for (let i = 0; i < n; i++) {
    const img = p.pattern.render(i);
    sent.push(img.slice());
    await p.sender.sendImage({
      pixelFormat: p.pattern.pixelFormat,
      width: p.pattern.width,
      height: p.pattern.height,
      data: img,
    });
    await new Promise((r) => setTimeout(r, 5));
  }
  await consumer;
  return { sent, got };
}

for (const { variant, needs } of VARIANTS) {
  const label = variant.capture ? `${variant.engine} engine, ${variant.capture}` : `${variant.engine} engine`;
  describeInterop(`GvspSender -> GvspReceiver on 127.0.0.1 [${label}]`, needs, () => {
    it('runs the engine asked for and says so', async () => {
      const p = await pair({ width: 64, height: 48, pixelFormat: PixelFormat.Mono8, ...variant });
      expect(p.rx.engine.name).toBe(variant.engine);
      expect(p.rx.engine.capture).toBe(variant.capture ?? 'dgram');
      expect(p.rx.engine.reason).toMatch(/asked for/);
    });

    it('delivers every frame complete, with metadata, on a clean link', async () => {
      const p = await pair({ width: 320, height: 240, pixelFormat: PixelFormat.Mono8, ...variant });
      const { sent, got } = await run(p, 10);
      expect(got.map((g) => g.status)).toEqual(Array(10).fill('complete'));
      for (const [i, g] of got.entries()) expect(Buffer.compare(g.data, sent[i]!)).toBe(0);
      const f = got[0]!.frame;
      expect([f.width, f.height, f.pixelFormatName, f.payloadTypeName]).toEqual([320, 240, 'Mono8', 'IMAGE']);
      expect(got.map((g) => g.blockId)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
      const s = p.rx.stats();
      expect(s.completedFrames).toBe(10);
      expect(s.failures).toBe(0);
      expect(s.receiveBuffer.granted).toBeGreaterThan(0);
    });

    for (const drop of [0.01, 0.05]) {
      it(`completes every frame through resends at ${drop * 100}% loss with reordering and duplication`, async () => {
        const p = await pair({
          ...variant,
          ...variant,
          width: 640,
          height: 480,
          pixelFormat: PixelFormat.Mono8,
          loss: { drop, duplicate: 0.01, reorder: 0.02, seed: drop * 1000 },
        });
        const { sent, got } = await run(p, 20);
        if (got.some((g) => g.status !== 'complete'))
          console.log(
            'DBG',
            JSON.stringify(p.rx.stats()),
            JSON.stringify(p.sender.stats()),
            got.map((g) => g.frame.packets),
          );
        expect(got.map((g) => g.status)).toEqual(Array(20).fill('complete'));
        for (const [i, g] of got.entries()) expect(Buffer.compare(g.data, sent[i]!)).toBe(0);
        const s = p.rx.stats();
        expect(s.resendRequests).toBeGreaterThan(0);
        expect(s.resentPackets).toBeGreaterThan(0);
        expect(s.duplicatedPackets).toBeGreaterThan(0);
        expect(p.sender.stats().dropped).toBeGreaterThan(0);
      });
    }

    it('completes frames under loss with extended ids and RGB8', async () => {
      const p = await pair({
        ...variant,
        width: 200,
        height: 100,
        pixelFormat: PixelFormat.RGB8,
        extendedId: true,
        packetSize: 1400,
        loss: { drop: 0.03, reorder: 0.02, seed: 9 },
      });
      const { sent, got } = await run(p, 10);
      expect(got.map((g) => g.status)).toEqual(Array(10).fill('complete'));
      for (const [i, g] of got.entries()) expect(Buffer.compare(g.data, sent[i]!)).toBe(0);
      expect(got[0]!.frame.pixelFormatName).toBe('RGB8');
    });

    it('ends frames as missing-packets when resends are off, and never hangs', async () => {
      const p = await pair({
        ...variant,
        width: 640,
        height: 480,
        pixelFormat: PixelFormat.Mono8,
        resend: false,
        loss: { drop: 0.05, seed: 3 },
      });
      const { got } = await run(p, 10);
      expect(got).toHaveLength(10);
      expect(got.every((g) => g.status === 'missing-packets' || g.status === 'complete')).toBe(true);
      expect(got.filter((g) => g.status === 'missing-packets').length).toBeGreaterThan(5);
      const s = p.rx.stats();
      expect(s.resendRequests).toBe(0);
      expect(s.missingPackets).toBeGreaterThan(0);
    });
  });
}

describe('GvspReceiver in a worker thread', () => {
  it('runs the receive loop in a worker thread and hands frame buffers over by transfer', async () => {
    const p = await pair({
      width: 320,
      height: 240,
      pixelFormat: PixelFormat.Mono8,
      worker: true,
      loss: { drop: 0.02, seed: 5 },
    });
    const { sent, got } = await run(p, 10);
    expect(got.map((g) => g.status)).toEqual(Array(10).fill('complete'));
    for (const [i, g] of got.entries()) expect(Buffer.compare(g.data, sent[i]!)).toBe(0);
    // the worker's own buffer came over (not a copy, not shared memory) and went back on release: detached here
    expect(got[0]!.frame.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(got[0]!.frame.data.buffer.byteLength).toBe(0);
    expect(got[0]!.frame.pooled).toBe(false);
    expect(p.rx.stats().resentPackets).toBeGreaterThan(0);
    // slots come back: more frames than slots go through (8 slots, 10 frames above, 10 more here)
    const more = await run(p, 10);
    expect(more.got.map((g) => g.status)).toEqual(Array(10).fill('complete'));
    for (const [i, g] of more.got.entries()) expect(Buffer.compare(g.data, more.sent[i]!)).toBe(0);
  });
});

describe('nextFrame without a signal or a timeout', () => {
  it('waits for the next frame, and resolves undefined when the receiver closes', async () => {
    const p = await pair({ width: 64, height: 48, pixelFormat: PixelFormat.Mono8 });
    const waiting = p.rx.nextFrame();
    const img = p.pattern.render(3);
    await p.sender.sendImage({ pixelFormat: p.pattern.pixelFormat, width: 64, height: 48, data: img });
    const f = await waiting;
    expect(f?.status).toBe('complete');
    expect(Buffer.compare(f!.data, img)).toBe(0);
    f!.release();
    const pending = p.rx.nextFrame();
    await p.rx.close();
    await expect(pending).resolves.toBeUndefined();
  });
});

describe('receiver delivery options', () => {
  it('drops whole frames for a slow consumer, counts them, and keeps receiving', async () => {
    const pattern = new TestPatternRenderer({ width: 160, height: 120, pixelFormat: PixelFormat.Mono8 });
    const sender = await GvspSender.open({ bindAddress: '127.0.0.1', packetSize: 1500 });
    cleanups.push(() => sender.close());
    const rx = await GvspReceiver.open({
      address: '127.0.0.1',
      payloadSize: pattern.byteSize,
      packetSize: 1500,
      slots: 3,
    });
    cleanups.push(() => rx.close());
    sender.setDestination('127.0.0.1', rx.port);
    for (let i = 0; i < 10; i++) {
      await sender.sendImage({ pixelFormat: pattern.pixelFormat, width: 160, height: 120, data: pattern.render(i) });
      await new Promise((r) => setTimeout(r, 5));
    }
    // The last datagrams are still on their way over loopback: wait (bounded) until every frame is in.
    for (let i = 0; i < 200 && rx.stats().completedFrames < 10; i++) await new Promise((r) => setTimeout(r, 25));
    const s = rx.stats();
    expect(s.completedFrames).toBe(10);
    expect(s.droppedFrames).toBe(7);
    // the newest frames are the ones kept
    const kept: bigint[] = [];
    for (
      let f = await rx.nextFrame({ timeoutMs: 100 }).catch(() => undefined);
      f;
      f = await rx.nextFrame({ timeoutMs: 100 }).catch(() => undefined)
    ) {
      kept.push(f.blockId);
      f.release();
    }
    expect(kept).toEqual([8n, 9n, 10n]);
  });

  it('hands out copies with copyFrames, chunk data apart from the image, and swaps big-endian 16-bit pixels', async () => {
    const pf = PixelFormat.Mono16;
    const sender = await GvspSender.open({ bindAddress: '127.0.0.1', packetSize: 1000 });
    cleanups.push(() => sender.close());
    const rx = await GvspReceiver.open({
      address: '127.0.0.1',
      payloadSize: 64 * 32 * 2 + 64,
      packetSize: 1000,
      copyFrames: true,
      pixelByteOrder: 'big',
    });
    cleanups.push(() => rx.close());
    sender.setDestination('127.0.0.1', rx.port);
    // a camera sending big-endian 16-bit pixels: 0x0102 arrives as bytes 01 02
    const data = new Uint8Array(64 * 32 * 2);
    for (let i = 0; i < data.length; i += 2) {
      data[i] = 0x01;
      data[i + 1] = 0x02;
    }
    const chunkData = new Uint8Array(16).fill(0xcc);
    await sender.sendImage({ pixelFormat: pf, width: 64, height: 32, data, chunkData, chunkLayoutId: 7 });
    const f = await rx.nextFrame({ timeoutMs: 2000 });
    expect(f?.status).toBe('complete');
    expect(f!.pooled).toBe(false);
    expect(rx.stats().held).toBe(0);
    expect(f!.chunksAppended).toBe(true);
    expect([...f!.chunkData!]).toEqual([...chunkData]);
    expect(f!.trailer?.chunkInfo).toEqual({ chunkDataPayloadLength: 16, chunkLayoutId: 7 });
    const v = new DataView(f!.image.buffer, f!.image.byteOffset, f!.image.byteLength);
    expect(v.getUint16(0, true)).toBe(0x0102);
    expect(f!.image.byteLength).toBe(64 * 32 * 2);
  });

  it('reassembles a multipart block into parts with their sizes', async () => {
    const sender = await GvspSender.open({ bindAddress: '127.0.0.1', packetSize: 800, extendedId: true });
    cleanups.push(() => sender.close());
    const rx = await GvspReceiver.open({ address: '127.0.0.1', payloadSize: 8000, packetSize: 800 });
    cleanups.push(() => rx.close());
    sender.setDestination('127.0.0.1', rx.port);
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
    const data = new Uint8Array(5000).map((_, i) => i % 251);
    await sender.sendBlock({
      leader: {
        fieldInfo: 0,
        genericFlags: 0,
        chunksAppended: false,
        payloadType: GvspPayloadType.MULTIPART,
        timestamp: 42n,
        parts: [part(4000, 80, 50), part(1000, 50, 20)],
      },
      trailer: { reserved: 0, payloadType: GvspPayloadType.MULTIPART, chunksAppended: false, parts: [] },
      data,
    });
    const f = await rx.nextFrame({ timeoutMs: 2000 });
    expect(f?.status).toBe('complete');
    expect(f!.payloadTypeName).toBe('MULTIPART');
    expect(f!.timestamp).toBe(42n);
    expect(f!.parts.map((p) => [p.offset, p.length, p.width, p.height])).toEqual([
      [0, 4000, 80, 50],
      [4000, 1000, 50, 20],
    ]);
    expect(Buffer.compare(f!.parts[1]!.data, data.subarray(4000))).toBe(0);
    f!.release();
  });
});
