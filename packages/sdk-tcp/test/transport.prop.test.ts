import { WireError } from '@cam/net-utils';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { SdkPacketDecoder } from '../src/codec/sdk-call.js';
import { RawHost, type Rig, startRig, until } from './helpers.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig.close();
});

/** Bytes with a plausible header often enough to get past the first check. */
const arbStream = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 2000 }),
  fc
    .tuple(
      fc.constantFrom(0x005f, 0x2001, 0x2003, 0x8001, 0x8003, 0x8005, 0x8007),
      fc.integer({ min: 0, max: 0x2500 }),
      fc.uint8Array({ maxLength: 300 }),
    )
    .map(([cmd, len, body]) => {
      const out = new Uint8Array(4 + body.byteLength);
      out.set([len & 0xff, len >>> 8, cmd & 0xff, cmd >>> 8]);
      out.set(body, 4);
      return out;
    }),
);

describe('device against random bytes', () => {
  test.prop([arbStream], { numRuns: 40 })(
    'bytes the decoder rejects close the connection with a typed error; the device keeps serving',
    async (bytes) => {
      let rejected = false;
      try {
        new SdkPacketDecoder().push(bytes);
      } catch (error) {
        expect(WireError.isInstance(error)).toBe(true);
        rejected = true;
      }
      const r = await RawHost.connect(rig.device.port);
      try {
        await r.handshake();
        r.socket.write(bytes);
        if (rejected) await r.waitClosed();
        const c = await rig.connect();
        expect((await c.call('GetDeviceInfo')).result).toBe('kSuccess');
        c.destroy();
      } finally {
        r.close();
      }
      await until(() => true);
    },
  );
});
