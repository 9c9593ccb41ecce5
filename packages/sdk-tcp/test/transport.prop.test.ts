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

describe('host against random bytes', () => {
  test.prop([fc.uint8Array({ minLength: 1, maxLength: 400 })], { numRuns: 15 })(
    'a device answering garbage gives a typed error and a closed connection',
    async (bytes) => {
      const { createServer } = await import('node:net');
      const { SdkClient } = await import('../src/transport/client.js');
      const sockets = new Set<import('node:net').Socket>();
      const server = createServer((s) => {
        sockets.add(s);
        s.on('error', () => {});
        s.once('data', () => s.write(bytes));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      try {
        const result = await SdkClient.connect('127.0.0.1', { port, timeoutMs: 300 }).then(
          (c) => {
            c.destroy();
            return null;
          },
          (e: unknown) => e,
        );
        // Random bytes can never complete a negotiation and a GetIFVersion answer.
        expect(WireError.isInstance(result)).toBe(true);
        await until(() => [...sockets].every((s) => s.destroyed || s.readableEnded));
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise((r) => server.close(r));
      }
    },
  );
});
