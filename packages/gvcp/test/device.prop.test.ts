import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BootstrapRegister as B,
  ControlChannel,
  decodeAckHeader,
  FeatureRegister as F,
  GvcpAckCode,
  GvcpDevice,
  GvcpStatus,
} from '../src/index.js';
import { RawHost } from './fixtures/device/raw-host.js';

const apps = [
  { address: '10.0.0.1', port: 1000 },
  { address: '10.0.0.1', port: 1001 },
  { address: '10.0.0.2', port: 1000 },
] as const;

type Op =
  | { kind: 'ccp'; app: number; value: number }
  | { kind: 'key'; app: number; key: number }
  | { kind: 'touch'; app: number }
  | { kind: 'tick'; ms: number };

const keys = [0, 0x1234, 0xbeef];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('ccp' as const),
    app: fc.nat(2),
    value: fc
      .tuple(fc.constantFrom(...keys), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7))
      .map(([k, bits]) => ((k << 16) | bits) >>> 0),
  }),
  fc.record({ kind: fc.constant('key' as const), app: fc.nat(2), key: fc.constantFrom(...keys) }),
  fc.record({ kind: fc.constant('touch' as const), app: fc.nat(2) }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(2000) }),
);

describe('ControlChannel privilege rules (property)', () => {
  it('never breaks the rules, whatever sequence of CCP writes comes from several applications', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        let now = 0;
        const cc = new ControlChannel({ now: () => now });
        for (const op of ops) {
          const before = cc.primary;
          if (op.kind === 'tick') {
            now += op.ms;
            continue;
          }
          const app = apps[op.app]!;
          if (op.kind === 'touch') {
            cc.touch(app);
            if (before && cc.isPrimary(app)) expect(cc.idleMs()).toBe(0);
            continue;
          }
          if (op.kind === 'key') {
            // Only the primary application can write the key register (the device checks canWrite first).
            if (cc.canWrite(app)) cc.switchoverKey = op.key;
            continue;
          }
          const key = cc.switchoverKey;
          const result = cc.writeCcp(app, op.value);
          const after = cc.primary;
          const wantsBits = op.value & 0x3;
          if (result.status === GvcpStatus.SUCCESS) {
            if (wantsBits === 0) {
              // Writing 0 releases (own control) or does nothing.
              expect(after === undefined || (before !== undefined && !cc.isPrimary(app))).toBe(true);
              if (before && before.port === app.port && before.address === app.address) expect(after).toBeUndefined();
            } else {
              expect(cc.isPrimary(app)).toBe(true);
              expect(after?.privilege).toBe(op.value & 0x1 ? 'exclusive' : 'control');
              if (before && !(before.address === app.address && before.port === app.port)) {
                // Taking control from someone else needs their switchover consent and the right key.
                expect(before.privilege).toBe('control');
                expect(before.switchoverEnabled).toBe(true);
                expect(op.value >>> 16).toBe(key);
              }
            }
          } else {
            // A refused write changes nothing.
            expect(after).toEqual(before);
          }
          // Invariants that hold after every step.
          for (const other of apps) {
            if (cc.canWrite(other)) expect(cc.isPrimary(other)).toBe(true);
            expect(cc.ccpFor(other)).toBe(cc.isPrimary(other) ? cc.ccp : 0);
            if (after?.privilege === 'exclusive' && !cc.isPrimary(other)) expect(cc.canRead(other)).toBe(false);
            if (after?.privilege !== 'exclusive') expect(cc.canRead(other)).toBe(true);
          }
          expect(cc.ccp & ~0x7).toBe(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('GvcpDevice privileges over UDP (property)', () => {
  let dev: GvcpDevice;
  let port: number;
  let hosts: RawHost[];

  beforeAll(async () => {
    dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    port = dev.address().port;
    hosts = [await RawHost.open(), await RawHost.open()];
  });
  afterAll(async () => {
    for (const h of hosts) await h.close();
    await dev.close();
  });

  type NetOp =
    | { host: number; op: 'ccp'; value: number }
    | { host: number; op: 'read' }
    | { host: number; op: 'write'; value: number };
  const netOp: fc.Arbitrary<NetOp> = fc.oneof(
    fc.record({ host: fc.nat(1), op: fc.constant('ccp' as const), value: fc.constantFrom(0, 1, 2, 6) }),
    fc.record({ host: fc.nat(1), op: fc.constant('read' as const) }),
    fc.record({ host: fc.nat(1), op: fc.constant('write' as const), value: fc.integer({ min: 1, max: 1024 }) }),
  );

  it('random CCP writes, reads and writes from two hosts get exactly the answers the rules give', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(netOp, { minLength: 1, maxLength: 25 }), async (ops) => {
        // Model: who holds control and how.
        let owner: number | undefined;
        let exclusive = false;
        let switchover = false;
        dev.control.release();
        for (const o of ops) {
          const h = hosts[o.host]!;
          if (o.op === 'ccp') {
            const ack = await h.request(port, { type: 'writereg', writes: [{ address: B.CCP, value: o.value }] });
            let expected: number = GvcpStatus.SUCCESS;
            // Another host may only take over when the owner allowed switchover (the key is 0 on both sides here).
            if (owner !== undefined && owner !== o.host && (o.value === 0 || !switchover))
              expected = GvcpStatus.ACCESS_DENIED;
            expect(ack.status).toBe(expected);
            if (expected === GvcpStatus.SUCCESS) {
              if (o.value === 0) {
                if (owner === o.host) owner = undefined;
              } else {
                owner = o.host;
                exclusive = o.value === 1;
                switchover = o.value === 6;
              }
            }
          } else if (o.op === 'read') {
            const ack = await h.request(port, { type: 'readreg', addresses: [F.Width] });
            const allowed = owner === undefined || owner === o.host || !exclusive;
            expect(ack.status).toBe(allowed ? GvcpStatus.SUCCESS : GvcpStatus.ACCESS_DENIED);
          } else {
            const ack = await h.request(port, { type: 'writereg', writes: [{ address: F.Width, value: o.value }] });
            expect(ack.status).toBe(owner === o.host ? GvcpStatus.SUCCESS : GvcpStatus.ACCESS_DENIED);
            if (owner === o.host) expect(dev.registers.get(F.Width)).toBe(o.value);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('GvcpDevice multi-register access (property)', () => {
  it('WRITEREG and READREG stop at the first failing register with the status and index the spec gives', async () => {
    const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    const port = dev.address().port;
    const h = await RawHost.open();
    try {
      for (let i = 0; i < 8; i++) dev.registers.define({ address: 0xb000 + 4 * i, name: `R${i}` });
      await h.request(port, { type: 'writereg', writes: [{ address: B.CCP, value: 2 }] });
      type Target = { kind: 'ok'; address: number } | { kind: 'ro' | 'unmapped' | 'misaligned'; address: number };
      const target: fc.Arbitrary<Target> = fc.oneof(
        { weight: 6, arbitrary: fc.nat(7).map((i) => ({ kind: 'ok' as const, address: 0xb000 + 4 * i })) },
        { weight: 1, arbitrary: fc.constant({ kind: 'ro' as const, address: B.VERSION }) },
        { weight: 1, arbitrary: fc.constant({ kind: 'unmapped' as const, address: 0x7000_0000 }) },
        { weight: 1, arbitrary: fc.nat(7).map((i) => ({ kind: 'misaligned' as const, address: 0xb002 + 4 * i })) },
      );
      const statusOf = {
        ro: GvcpStatus.WRITE_PROTECT,
        unmapped: GvcpStatus.INVALID_ADDRESS,
        misaligned: GvcpStatus.BAD_ALIGNMENT,
      };
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(target, fc.nat(0xffff_ffff)), { minLength: 1, maxLength: 20 }),
          async (ops) => {
            for (let i = 0; i < 8; i++) dev.registers.set(0xb000 + 4 * i, 0);
            const model = new Map<number, number>();
            const ack = await h.request(port, {
              type: 'writereg',
              writes: ops.map(([t, value]) => ({ address: t.address, value })),
            });
            const firstBad = ops.findIndex(([t]) => t.kind !== 'ok');
            for (const [t, value] of firstBad < 0 ? ops : ops.slice(0, firstBad)) model.set(t.address, value);
            if (firstBad < 0) {
              expect(ack).toMatchObject({ type: 'writereg', status: GvcpStatus.SUCCESS, index: ops.length });
            } else {
              const bad = ops[firstBad]![0];
              expect(ack).toMatchObject({
                type: 'writereg',
                status: statusOf[bad.kind as keyof typeof statusOf],
                index: firstBad,
              });
            }
            for (let i = 0; i < 8; i++) expect(dev.registers.get(0xb000 + 4 * i)).toBe(model.get(0xb000 + 4 * i) ?? 0);
            // READREG of the same addresses: values up to the first unreadable one (read-only registers read fine).
            const read = await h.request(port, { type: 'readreg', addresses: ops.map(([t]) => t.address) });
            const firstUnreadable = ops.findIndex(([t]) => t.kind === 'unmapped' || t.kind === 'misaligned');
            const readable = firstUnreadable < 0 ? ops : ops.slice(0, firstUnreadable);
            expect(read.type === 'readreg' ? read.values.length : -1).toBe(readable.length);
            if (read.type === 'readreg') {
              readable.forEach(([t], i) => {
                if (t.kind === 'ok') expect(read.values[i]).toBe(model.get(t.address) ?? 0);
              });
            }
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      await h.close();
      await dev.close();
    }
  });
});

describe('GvcpDevice bad input (property)', () => {
  it('counts and drops any bytes, never crashes, and keeps answering', async () => {
    const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0 });
    const port = dev.address().port;
    const h = await RawHost.open();
    const errors: unknown[] = [];
    dev.on('handlerError', (e) => errors.push(e));
    try {
      const anyBytes = fc.uint8Array({ maxLength: 700 });
      // Valid key and plausible header, random command and payload: reaches the command decoders.
      const gvcpish = fc
        .tuple(
          fc.nat(0xff),
          fc.constantFrom(0x02, 0x04, 0x40, 0x80, 0x82, 0x84, 0x86, 0xc0, 0xc2, 0x100, 0x1234),
          fc.nat(0xffff),
          fc.uint8Array({ maxLength: 80 }),
        )
        .map(([flags, cmd, reqId, payload]) => {
          const b = new Uint8Array(8 + payload.byteLength);
          const v = new DataView(b.buffer);
          b[0] = 0x42;
          b[1] = flags;
          v.setUint16(2, cmd);
          v.setUint16(4, payload.byteLength);
          v.setUint16(6, reqId);
          b.set(payload, 8);
          return b;
        });
      const samples = fc.sample(fc.oneof(anyBytes, gvcpish), { numRuns: 2000, seed: 42 });
      let n = 0;
      for (const s of samples) {
        await h.sendRaw(s, port);
        // Pace the flood so the loopback socket buffer does not drop datagrams (bounded wait).
        if (++n % 32 === 0) {
          for (let i = 0; i < 200 && dev.stats.datagramsReceived < n; i++) await new Promise((r) => setTimeout(r, 2));
        }
      }
      // The device is still alive and correct after all of it.
      await new Promise((r) => setTimeout(r, 200));
      const sent = await h.send(port, { type: 'discovery', allowBroadcastAck: false, reqId: 0xfff1 });
      // Answers to the random commands may still be queued ahead of ours: skip them.
      let found = false;
      for (let i = 0; i < 5000 && !found; i++) {
        const r = await h.next(3000);
        if (!r) break;
        const hdr = decodeAckHeader(r.bytes);
        found = hdr.ackCode === GvcpAckCode.DISCOVERY_ACK && hdr.ackId === 0xfff1;
      }
      expect(sent.byteLength).toBe(8);
      expect(found).toBe(true);
      expect(dev.stats.datagramsReceived).toBeGreaterThanOrEqual(samples.length);
      expect(dev.stats.badDatagrams).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await h.close();
      await dev.close();
    }
  });
});
