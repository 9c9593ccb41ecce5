import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { describeInterop } from '../../../test-support/interop.js';
import { type PacketisedBlock, packetiseBlock } from '../src/index.js';
import { block, KINDS, type Kind } from './blocks.js';
import { type Harness, makeHarness, nativeBinding } from './engines.js';

/**
 * The two receive engines agree: the same datagrams (every payload type, standard and extended ids, shuffled,
 * lost within and beyond the resend budget, duplicated, mutated, truncated) and the same clock give the same
 * frames (status, block id, bytes), the same resend requests and the same counters, packet for packet.
 */

type Action = { push: Uint8Array } | { tick: number };

function snapshot(h: Harness) {
  return {
    ended: h.ended.map((e) => ({ blockId: e.blockId, status: e.status, data: Buffer.from(e.data).toString('hex') })),
    requests: h.requests,
    counters: Array.from(h.engine.counters),
    filling: h.engine.fillingCount,
  };
}

const kinds: readonly Kind[] = KINDS;

describeInterop('the js and native engines agree', { '@cam/gvsp-native (built)': nativeBinding !== undefined }, () => {
  test.prop(
    [
      fc.array(fc.constantFrom(...kinds), { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      fc.integer({ min: 576, max: 1600 }),
      fc.boolean(),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(), fc.nat()), {
        minLength: 8,
        maxLength: 300,
      }),
      fc.double({ min: 0, max: 0.4, noNaN: true }),
      fc.double({ min: 0, max: 0.2, noNaN: true }),
      fc.double({ min: 0, max: 0.1, noNaN: true }),
      fc.integer({ min: 1, max: 17 }),
      fc.boolean(),
    ],
    { numRuns: 250 },
  )(
    'same datagrams and clock: same frames, requests and counters',
    (blockKinds, ext, packetSize, sizeKnown, noise, lossShare, dupShare, mutateShare, batch, resend) => {
      const blocks = new Map<number, PacketisedBlock>();
      let r = 0;
      const next = (): [number, number, number] => noise[r++ % noise.length]!;
      const actions: Action[] = [];
      let t = 0;
      actions.push({ tick: t });
      blockKinds.forEach((k, i) => {
        // multipart and GenDC data need the extended header's part count / layout: use extended ids for them
        const useExt = ext || k === 'multipart' || k === 'gendc';
        const p = packetiseBlock(block(k, i + 1), BigInt(i + 1), packetSize, useExt);
        blocks.set(i + 1, p);
        const order = Array.from({ length: p.packetCount }, (_, j) => j);
        for (let j = order.length - 1; j > 0; j--) {
          const s = Math.floor(next()[0] * (j + 1));
          [order[j], order[s]] = [order[s]!, order[j]!];
        }
        for (const id of order) {
          const [v, a, b] = next();
          if (v < lossShare) continue;
          let bytes = p.bytes.slice(p.offsets[id]!, p.offsets[id + 1]!);
          if (v > 1 - mutateShare) {
            // hostile: a flipped byte anywhere (header included) or a truncation
            if (a % 3 === 0) bytes = bytes.subarray(0, b % (bytes.byteLength + 1));
            else {
              const k = a % bytes.byteLength;
              bytes[k] = bytes[k]! ^ (1 + (b % 255));
            }
          }
          actions.push({ push: bytes });
          if (v < lossShare + dupShare) actions.push({ push: bytes });
          if (b % 11 === 0) {
            t += (a % 4) * 0.5;
            actions.push({ tick: t });
          }
        }
      });
      for (let i = 0; i < 60; i++) {
        t += 5;
        actions.push({ tick: t });
      }
      const run = (name: 'js' | 'native') => {
        const h = makeHarness(name, 4096, sizeKnown ? packetSize : undefined, blocks, { resend, batch, slots: 3 });
        // should the engine throw, both must throw the same at the same datagram (native: it ends the batch)
        let error: string | undefined;
        try {
          for (const a of actions) {
            if ('push' in a) h.push(a.push);
            else h.tick(a.tick);
          }
          h.sync();
        } catch (e) {
          error = String(e);
        }
        return { error, ...snapshot(h) };
      };
      expect(run('native')).toEqual(run('js'));
    },
  );

  test('the native engine places data packets itself (JS sees leaders, trailers and completing packets)', () => {
    expect(nativeBinding).toBeDefined();
    const p = packetiseBlock(block('image', 1), 1n, 600, false);
    const h = makeHarness('native', 4096, 600, new Map(), { batch: 64 });
    for (let id = 0; id < p.packetCount; id++) h.push(p.bytes.subarray(p.offsets[id]!, p.offsets[id + 1]!));
    h.sync();
    expect(h.ended.map((e) => e.status)).toEqual([0]);
    // in order, only the leader (a new block) and the trailer (it completes the frame) go to JS
    expect(h.placedNatively).toBe(p.packetCount - 2);
  });
});
