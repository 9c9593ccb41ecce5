import { TimeoutError } from '@cam/net-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GvcpClient } from '../src/index.js';
import { FakePeer } from './fake-peer.js';

/** What the scripted device does with one try of a command. */
type TryBehaviour =
  | { kind: 'drop' }
  | { kind: 'reply'; delayMs: number }
  | { kind: 'pending'; announceMs: number; replyAfterMs: number }
  | { kind: 'wrongId' };

const behaviour: fc.Arbitrary<TryBehaviour> = fc.oneof(
  fc.constant({ kind: 'drop' as const }),
  fc.record({ kind: fc.constant('reply' as const), delayMs: fc.integer({ min: 0, max: 20 }) }),
  fc
    .record({ announceMs: fc.integer({ min: 60, max: 160 }), slack: fc.integer({ min: 20, max: 50 }) })
    .map(({ announceMs, slack }) => ({ kind: 'pending' as const, announceMs, replyAfterMs: announceMs - slack })),
  fc.constant({ kind: 'wrongId' as const }),
);

// Generous against event-loop stalls on a loaded machine: a reply comes at most 20 ms late into a 100 ms try.
const TRY_MS = 100;

describe('GvcpClient retry and PENDING_ACK properties', () => {
  it('succeeds exactly when a try within the retry budget is answered, sending one datagram per try', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(behaviour, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 0xffff }),
        async (script, retries, value) => {
          const peer = await FakePeer.start((cmd, ctx) => {
            if (cmd.type !== 'readreg') return;
            const b = script[ctx.seen - 1] ?? { kind: 'drop' };
            const ok = { type: 'readreg' as const, ackId: cmd.reqId, status: 0, values: [value] };
            if (b.kind === 'reply') ctx.reply(ok, b.delayMs);
            else if (b.kind === 'pending') {
              ctx.reply({ type: 'pending', ackId: cmd.reqId, status: 0, timeToCompletion: b.announceMs });
              ctx.reply(ok, b.replyAfterMs);
            } else if (b.kind === 'wrongId') ctx.reply({ ...ok, ackId: cmd.reqId ^ 0x100, values: [0] });
          });
          const client = await GvcpClient.connect('127.0.0.1', {
            port: peer.port,
            retries,
            tryTimeoutMs: TRY_MS,
            capabilities: 0,
          });
          try {
            const answered = script.slice(0, retries + 1).findIndex((b) => b.kind === 'reply' || b.kind === 'pending');
            const result = await client.readRegister(0x100).then(
              (v) => ({ ok: true as const, v }),
              (e: unknown) => ({ ok: false as const, e }),
            );
            if (answered >= 0) {
              expect(result).toEqual({ ok: true, v: value });
              expect(peer.received).toHaveLength(answered + 1);
              expect(new Set(peer.received.map((c) => c.reqId)).size).toBe(1);
              expect(client.stats.retransmissions).toBe(answered);
            } else {
              expect(result.ok).toBe(false);
              if (!result.ok) expect(TimeoutError.isInstance(result.e)).toBe(true);
              expect(peer.received).toHaveLength(retries + 1);
            }
          } finally {
            await client.close();
            await peer.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
