import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { WireError } from '@cam/net-utils';
import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type ScGvmpCamera, startStream } from '../src/index.js';

/** A camera whose STREAM_STATE follows STREAM_START at once; the test plays the camera's TCP side itself. */
function alwaysStreaming(): ScGvmpCamera {
  let start = 0;
  return {
    address: '127.0.0.1',
    registers: {
      readRegister: async (a) => (a === 0xb00c ? (start === 1 ? 2 : 0) : 0),
      writeRegister: async (a, v) => {
        if (a === 0xb008) start = v;
      },
    },
  };
}

describe('host over real TCP, random input', () => {
  it('random bytes from the camera: whole frames or a typed error and a closed connection; the host survives', async () => {
    const maxPayloadLength = 4096;
    const stream = await startStream(alwaysStreaming(), { maxPayloadLength, pollIntervalMs: 1000 });
    const outcomes: { error?: Error }[] = [];
    stream.on('disconnect', (d) => outcomes.push(d));
    let delivered = 0;
    const reading = (async () => {
      for await (const f of stream) {
        expect(f.payload.byteLength).toBeLessThanOrEqual(maxPayloadLength);
        delivered++;
      }
    })();
    try {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 600, size: 'max' }), fc.boolean(), async (bytes, validStart) => {
          // Half the inputs start with a valid header announcing the rest as payload (one whole frame when >= 12 bytes).
          if (validStart && bytes.length >= 12) {
            bytes.set([0x53, 0x43, 0x01, 0x14]);
            new DataView(bytes.buffer, bytes.byteOffset).setUint32(8, bytes.length - 12);
          }
          const before = outcomes.length;
          const s = netConnect({ host: '127.0.0.1', port: stream.port });
          s.on('error', () => {});
          await once(s, 'connect');
          s.end(bytes);
          await once(s, 'close');
          const deadline = Date.now() + 3000;
          while (outcomes.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
          expect(outcomes.length).toBe(before + 1);
          const { error } = outcomes[before]!;
          if (error) expect(WireError.isInstance(error)).toBe(true);
        }),
        { numRuns: 60 },
      );
      expect(stream.stats.connections).toBeGreaterThanOrEqual(60);
      // Some inputs started with a valid header and a small PayloadLen: those frames were delivered.
      expect(delivered + stream.stats.protocolErrors).toBeGreaterThan(0);
    } finally {
      await stream.stop();
      await reading;
    }
  });
});
