import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '@cam/net-utils';
import { describe, expect, it } from 'vitest';
import {
  decodeGvspPacket,
  decodePacketResend,
  encodeGvspPacket,
  encodePacketResend,
  GvspPacketFormat,
  GvspPayloadType,
  imageByteSize,
  PIXEL_FORMATS,
  PixelFormat,
  pixelFormatByName,
  pixelFormatInfo,
} from '../src/index.js';

interface Capture {
  packets: { proto: string; payload_hex: string }[];
}

const capture = JSON.parse(
  readFileSync(new URL('./fixtures/captures/aravis-fake-gv-64x48.json', import.meta.url), 'utf8'),
) as Capture;
const gvsp = capture.packets.filter((p) => p.proto === 'gvsp');

describe('GVSP codec on the Aravis capture', () => {
  it('has GVSP packets to test', () => {
    expect(gvsp.length).toBeGreaterThanOrEqual(5);
  });

  it('decodes every packet and re-encodes it byte-identical', () => {
    for (const p of gvsp) {
      const bytes = fromHex(p.payload_hex);
      const decoded = decodeGvspPacket(bytes);
      expect(toHex(encodeGvspPacket(decoded))).toBe(p.payload_hex);
    }
  });

  it('reads the leader of the 64x48 Mono8 frame and reassembles it', () => {
    const packets = gvsp.map((p) => decodeGvspPacket(fromHex(p.payload_hex)));
    const leader = packets[0]!;
    expect(leader.kind).toBe('leader');
    if (leader.kind !== 'leader') return;
    expect(leader.header.blockId).toBeGreaterThan(0n);
    expect(leader.header.packetId).toBe(0);
    expect(leader.header.extendedId).toBe(false);
    expect(leader.leader.payloadType).toBe(GvspPayloadType.IMAGE);
    if (!('sizeX' in leader.leader)) throw new Error('not an image leader');
    expect(leader.leader.sizeX).toBe(64);
    expect(leader.leader.sizeY).toBe(48);
    expect(leader.leader.pixelFormat).toBe(PixelFormat.Mono8);
    const trailer = packets[4]!;
    expect(trailer.kind).toBe('trailer');
    expect(trailer.header.format).toBe(GvspPacketFormat.TRAILER);
    expect(trailer.header.blockId).toBe(leader.header.blockId);
    const data = packets.slice(0, 5).filter((p) => p.kind === 'payload');
    expect(data.map((p) => p.header.blockId)).toEqual([1, 2, 3].map(() => leader.header.blockId));
    expect(data.map((p) => p.header.packetId)).toEqual([1, 2, 3]);
    const total = data.reduce((n, p) => n + (p.kind === 'payload' ? p.data.byteLength : 0), 0);
    expect(total).toBe(imageByteSize(PixelFormat.Mono8, 64, 48));
  });
});

describe('pixel formats', () => {
  it('derives bits per pixel from the id', () => {
    expect(pixelFormatInfo(0x01080001)?.name).toBe('Mono8');
    expect(pixelFormatByName('bayerrg12p')?.bitsPerPixel).toBe(12);
    expect(pixelFormatByName('RGB8')?.bitsPerPixel).toBe(24);
    expect(pixelFormatByName('RGBa8')?.channels).toBe(4);
    expect(pixelFormatByName('Mono16')?.wordPixels).toBe(true);
    expect(pixelFormatByName('Mono12Packed')?.wordPixels).toBe(false);
    expect(pixelFormatByName('YUV422_8')?.bitsPerPixel).toBe(16);
    for (const f of PIXEL_FORMATS) expect(f.bitsPerPixel).toBe((f.id >>> 16) & 0xff);
    expect(new Set(PIXEL_FORMATS.map((f) => f.id)).size).toBe(PIXEL_FORMATS.length);
  });
});

describe('PACKETRESEND', () => {
  it('encodes the standard 12-byte form as the spec lays it out', () => {
    const b = encodePacketResend({
      reqId: 7,
      ackRequired: false,
      extendedId: false,
      streamChannel: 0,
      blockId: 0x1234n,
      firstPacketId: 3,
      lastPacketId: 9,
    });
    expect(toHex(b)).toBe('42000040000c0007' + '00001234' + '00000003' + '00000009');
  });

  it('encodes the extended 20-byte form with flag 0x10', () => {
    const cmd = {
      reqId: 1,
      ackRequired: false,
      extendedId: true,
      streamChannel: 1,
      blockId: 0x1_0000_0001n,
      firstPacketId: 0x1000000,
      lastPacketId: 0x1000002,
    };
    const b = encodePacketResend(cmd);
    expect(toHex(b)).toBe('4210004000140001' + '00010000' + '01000000' + '01000002' + '0000000100000001');
    expect(decodePacketResend(b)).toEqual(cmd);
  });
});
