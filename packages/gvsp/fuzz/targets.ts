// Fuzz targets of @cam/gvsp: the packet codec, PACKETRESEND, and the reassembler fed a stream of datagrams.
import { WireError } from '@cam/net-utils';
import type { FuzzTarget } from '../../../test-support/hostile-types.js';
import {
  decodeGvspHeader,
  decodeGvspPacket,
  decodePacketResend,
  encodePacketResend,
  GvspReassembler,
  imageBlock,
  type PacketisedBlock,
  PixelFormat,
  packetiseBlock,
} from '../src/index.js';

const isWireError = (e: unknown): boolean => WireError.isInstance(e);

function blocks(): PacketisedBlock[] {
  const data = new Uint8Array(40 * 30).map((_, i) => i & 0xff);
  const block = imageBlock({ pixelFormat: PixelFormat.Mono8, width: 40, height: 30, data, timestamp: 5n });
  const chunked = imageBlock({
    pixelFormat: PixelFormat.Mono8,
    width: 40,
    height: 30,
    data,
    timestamp: 6n,
    chunkData: Uint8Array.of(1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 4),
  });
  return [packetiseBlock(block, 1n, 576, false), packetiseBlock(chunked, 0x1_0000_0002n, 600, true)];
}

function packets(b: PacketisedBlock): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.packetCount; i++) out.push(b.bytes.slice(b.offsets[i]!, b.offsets[i + 1]!));
  return out;
}

/** Datagrams as one input: each a 2-byte big-endian length and its bytes (mutations hit both). */
function datagramStream(list: Uint8Array[]): Uint8Array {
  const total = list.reduce((n, p) => n + 2 + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of list) {
    out[at] = p.byteLength >> 8;
    out[at + 1] = p.byteLength & 0xff;
    out.set(p, at + 2);
    at += 2 + p.byteLength;
  }
  return out;
}

const targets: FuzzTarget[] = [
  {
    name: 'gvsp decodeGvspPacket',
    seeds: () => blocks().flatMap(packets),
    run: (input) => void decodeGvspPacket(input),
    isExpectedError: isWireError,
    maxInputBytes: 2048,
  },
  {
    name: 'gvsp decodeGvspHeader',
    seeds: () => blocks().flatMap(packets),
    run: (input) => void decodeGvspHeader(input),
    isExpectedError: isWireError,
    maxInputBytes: 128,
  },
  {
    name: 'gvsp decodePacketResend',
    seeds: () => [
      encodePacketResend({
        reqId: 1,
        ackRequired: false,
        extendedId: false,
        streamChannel: 0,
        blockId: 3n,
        firstPacketId: 1,
        lastPacketId: 9,
      }),
      encodePacketResend({
        reqId: 2,
        ackRequired: true,
        extendedId: true,
        streamChannel: 2,
        blockId: 1n << 40n,
        firstPacketId: 0,
        lastPacketId: 0xffffffff,
      }),
    ],
    run: (input) => void decodePacketResend(input),
    isExpectedError: isWireError,
    maxInputBytes: 128,
  },
  {
    name: 'gvsp GvspReassembler',
    // never throws for wire input: every datagram is placed, counted or dropped (issue #22, item 1)
    seeds: () => blocks().map((b) => datagramStream(packets(b))),
    run: (input, cuts) => {
      let now = 0;
      const engine: GvspReassembler = new GvspReassembler(
        { payloadSize: 4096, slots: 4 },
        {
          requestResend() {},
          frameReady() {
            for (let s = engine.take(); s >= 0; s = engine.take()) engine.release(s);
          },
        },
      );
      const cutSet = new Set(cuts);
      for (let at = 0; at + 2 <= input.byteLength; ) {
        const len = Math.min((input[at]! << 8) | input[at + 1]!, input.byteLength - at - 2);
        const datagram = input.subarray(at + 2, at + 2 + len);
        engine.handlePacket(datagram, datagram.byteLength);
        at += 2 + len;
        // the runner's cut points become pauses: time moves on, frames time out, resends are asked for
        if (cutSet.has(at) || len === 0) {
          now += 50;
          engine.tick(now);
        }
      }
      engine.tick(now + 1000);
    },
    isExpectedError: () => false,
    maxInputBytes: 16 * 1024,
  },
];

export default targets;
