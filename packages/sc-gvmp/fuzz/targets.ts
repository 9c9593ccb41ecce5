// Fuzz targets of @cam/sc-gvmp: the frame codec and the streaming decoder (fed in pieces).
import { WireError } from '@cam/net-utils';
import type { FuzzTarget } from '../../../test-support/hostile-types.js';
import { decodeFrame, decodeFrameHeader, encodeFrame, ScGvmpFrameDecoder } from '../src/index.js';

const isWireError = (e: unknown): boolean => WireError.isInstance(e);

function seeds(): Uint8Array[] {
  const jpeg = encodeFrame({
    seq: 1,
    kind: 'JPEG',
    keyFrame: true,
    payload: Uint8Array.of(0xff, 0xd8, 1, 2, 0xff, 0xd9),
  });
  const h264 = encodeFrame({ seq: 2, kind: 'H264', keyFrame: false, payload: new Uint8Array(300).fill(0x42) });
  const empty = encodeFrame({ seq: 0xffffffff, kind: 'RAW', payload: new Uint8Array(0) });
  const stream = new Uint8Array(jpeg.byteLength + h264.byteLength + empty.byteLength);
  stream.set(jpeg);
  stream.set(h264, jpeg.byteLength);
  stream.set(empty, jpeg.byteLength + h264.byteLength);
  return [jpeg, h264, empty, stream];
}

const targets: FuzzTarget[] = [
  {
    name: 'sc-gvmp decodeFrame',
    seeds,
    run: (input) => void decodeFrame(input, { maxPayloadLength: 64 * 1024 }),
    isExpectedError: isWireError,
    maxInputBytes: 8 * 1024,
  },
  {
    name: 'sc-gvmp decodeFrameHeader',
    seeds,
    run: (input) => void decodeFrameHeader(input),
    isExpectedError: isWireError,
    maxInputBytes: 64,
  },
  {
    name: 'sc-gvmp ScGvmpFrameDecoder',
    seeds,
    run: (input, cuts) => {
      const decoder = new ScGvmpFrameDecoder({ maxPayloadLength: 64 * 1024 });
      let from = 0;
      for (const cut of [...cuts, input.byteLength]) {
        decoder.push(input.subarray(from, cut));
        from = cut;
      }
      decoder.end();
    },
    isExpectedError: isWireError,
    maxInputBytes: 16 * 1024,
  },
];

export default targets;
