import { MalformedError, WireError } from '@cam/net-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACK_CODES,
  type DeviceInfo,
  decodeAck,
  decodeCommand,
  decodeCommandHeader,
  encodeAck,
  encodeAckInto,
  encodeCommand,
  encodeCommandInto,
  encodedLengthAck,
  encodedLengthCommand,
  formatLocalGenicamUrl,
  type GvcpAck,
  type GvcpCommand,
  type GvcpEvent,
  GvcpUnknownCommandError,
  parseGenicamUrl,
} from '../src/index.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const reqId = fc.integer({ min: 1, max: 0xffff });
const ipv4 = fc.ipV4();
const mac = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const ascii = (max: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
const words = (max: number) =>
  fc.integer({ min: 0, max }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n }));

const base = { reqId, ackRequired: fc.boolean() };

const event = (extendedId: boolean): fc.Arbitrary<GvcpEvent> =>
  fc.record({
    eventId: u16,
    streamChannel: u16,
    blockId: extendedId ? u64 : fc.bigInt({ min: 0n, max: 0xffffn }),
    timestamp: u64,
  });

export const commandArb: fc.Arbitrary<GvcpCommand> = fc.oneof(
  fc.record({ type: fc.constant('discovery' as const), ...base, allowBroadcastAck: fc.boolean() }),
  fc.record({
    type: fc.constant('forceip' as const),
    ...base,
    allowBroadcastAck: fc.boolean(),
    mac,
    ip: ipv4,
    mask: ipv4,
    gateway: ipv4,
  }),
  fc.record({
    type: fc.constant('readreg' as const),
    ...base,
    addresses: fc.array(u32, { minLength: 1, maxLength: 135 }),
  }),
  fc.record({
    type: fc.constant('writereg' as const),
    ...base,
    writes: fc.array(fc.record({ address: u32, value: u32 }), { minLength: 1, maxLength: 67 }),
  }),
  fc.record({ type: fc.constant('readmem' as const), ...base, address: u32, count: u16 }),
  fc.record({ type: fc.constant('writemem' as const), ...base, address: u32, data: words(134) }),
  fc.boolean().chain((extendedId) =>
    fc.record({
      type: fc.constant('packetresend' as const),
      ...base,
      extendedId: fc.constant(extendedId),
      streamChannel: u16,
      blockId: extendedId ? u64 : fc.bigInt({ min: 0n, max: 0xffffn }),
      firstPacketId: extendedId ? u32 : fc.integer({ min: 0, max: 0xffffff }),
      lastPacketId: extendedId ? u32 : fc.integer({ min: 0, max: 0xffffff }),
    }),
  ),
  fc.boolean().chain((extendedId) =>
    fc.record({
      type: fc.constant('event' as const),
      ...base,
      extendedId: fc.constant(extendedId),
      events: fc.array(event(extendedId), { minLength: 1, maxLength: 20 }),
    }),
  ),
  fc.boolean().chain((extendedId) =>
    fc.record({
      type: fc.constant('eventdata' as const),
      ...base,
      extendedId: fc.constant(extendedId),
      event: event(extendedId),
      data: words(100),
    }),
  ),
  fc.record(
    { type: fc.constant('action' as const), ...base, deviceKey: u32, groupKey: u32, groupMask: u32, actionTime: u64 },
    { requiredKeys: ['type', 'reqId', 'ackRequired', 'deviceKey', 'groupKey', 'groupMask'] },
  ),
);

const deviceInfo: fc.Arbitrary<DeviceInfo> = fc.record({
  specVersionMajor: u16,
  specVersionMinor: u16,
  deviceMode: u32,
  mac,
  ipConfigSupported: u32,
  ipConfigCurrent: u32,
  ip: ipv4,
  subnetMask: ipv4,
  defaultGateway: ipv4,
  manufacturerName: ascii(32),
  modelName: ascii(32),
  deviceVersion: ascii(32),
  manufacturerInfo: ascii(48),
  serialNumber: ascii(16),
  userDefinedName: ascii(16),
});

const ackBase = { ackId: u16, status: fc.constant(0) };
const simple = (type: 'forceip' | 'packetresend' | 'event' | 'eventdata' | 'action') =>
  fc.record({ type: fc.constant(type), ackId: u16, status: fc.constantFrom(0, 0x8001, 0x8006) });

export const ackArb: fc.Arbitrary<GvcpAck> = fc.oneof(
  fc.record({ type: fc.constant('discovery' as const), ...ackBase, device: deviceInfo }),
  simple('forceip'),
  simple('packetresend'),
  simple('event'),
  simple('eventdata'),
  simple('action'),
  fc.record({
    type: fc.constant('readreg' as const),
    ...ackBase,
    values: fc.array(u32, { minLength: 1, maxLength: 135 }),
  }),
  fc.record({
    type: fc.constant('writereg' as const),
    ackId: u16,
    status: fc.constantFrom(0, 0x8003, 0x8006),
    index: u16,
  }),
  fc.record({ type: fc.constant('readmem' as const), ...ackBase, address: u32, data: words(134) }),
  fc.record({ type: fc.constant('writemem' as const), ackId: u16, status: fc.constantFrom(0, 0x8004), index: u16 }),
  fc.record({ type: fc.constant('pending' as const), ...ackBase, timeToCompletion: u16 }),
  fc.record({
    type: fc.constant('error' as const),
    ackId: u16,
    status: fc.constantFrom(0x8001, 0x8003, 0x8006, 0x8fff),
    ackCode: fc.constantFrom(ACK_CODES.discovery, ACK_CODES.readmem),
    payload: fc.constant(new Uint8Array(0)),
  }),
);

function isTyped(e: unknown): boolean {
  return WireError.isInstance(e);
}

describe('GVCP codec properties', () => {
  it('round-trips every command type', () => {
    fc.assert(
      fc.property(commandArb, (cmd) => {
        const bytes = encodeCommand(cmd);
        expect(bytes.byteLength).toBe(encodedLengthCommand(cmd));
        expect(bytes.byteLength).toBeLessThanOrEqual(548);
        expect(decodeCommand(bytes)).toEqual(cmd);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips every ack type', () => {
    fc.assert(
      fc.property(ackArb, (ack) => {
        const bytes = encodeAck(ack);
        expect(bytes.byteLength).toBe(encodedLengthAck(ack));
        expect(decodeAck(bytes)).toEqual(ack);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodeInto writes exactly encodedLength bytes at any offset and nothing else', () => {
    fc.assert(
      fc.property(commandArb, ackArb, fc.integer({ min: 0, max: 16 }), (cmd, ack, offset) => {
        const n = encodedLengthCommand(cmd);
        const out = new Uint8Array(offset + n + 4).fill(0xee);
        expect(encodeCommandInto(cmd, out, offset)).toBe(n);
        expect(out.subarray(offset, offset + n)).toEqual(encodeCommand(cmd));
        expect([...out.subarray(0, offset), ...out.subarray(offset + n)].every((b) => b === 0xee)).toBe(true);
        const m = encodedLengthAck(ack);
        const out2 = new Uint8Array(offset + m);
        expect(encodeAckInto(ack, out2, offset)).toBe(m);
        expect(out2.subarray(offset)).toEqual(encodeAck(ack));
      }),
    );
  });

  it('turns any bytes into a message or a typed error', () => {
    const anyBytes = fc.uint8Array({ maxLength: 600 });
    // Half the inputs get a plausible header so the payload decoders are reached.
    const framed = fc
      .tuple(
        fc.constantFrom(0x42, 0x00, 0x80),
        u16,
        fc.constantFrom(2, 4, 0x40, 0x80, 0x82, 0x84, 0x86, 0xc0, 0xc2, 0x100, 0x89, 0x81, 0x85, 0x03),
        fc.uint8Array({ maxLength: 300 }),
      )
      .map(([k, f, code, payload]) => {
        const b = new Uint8Array(8 + payload.byteLength);
        b[0] = k;
        b[1] = f & 0xff;
        b[2] = code >> 8;
        b[3] = code & 0xff;
        b[4] = payload.byteLength >> 8;
        b[5] = payload.byteLength & 0xff;
        b[6] = f >> 8;
        b[7] = 1;
        b.set(payload, 8);
        return b;
      });
    fc.assert(
      fc.property(fc.oneof(anyBytes, framed), (bytes) => {
        for (const decode of [decodeCommand, decodeAck]) {
          try {
            const m = decode(bytes);
            expect(typeof m.type).toBe('string');
          } catch (e) {
            expect(isTyped(e)).toBe(true);
          }
        }
      }),
      { numRuns: 100_000 },
    );
  }, 180_000);

  it('reports unknown commands with code and req_id so a device can answer NOT_IMPLEMENTED', () => {
    const bytes = Uint8Array.of(0x42, 0x01, 0x12, 0x34, 0, 0, 0x00, 0x07);
    expect(decodeCommandHeader(bytes)).toEqual({ flags: 1, command: 0x1234, length: 0, reqId: 7 });
    try {
      decodeCommand(bytes);
      expect.unreachable();
    } catch (e) {
      expect(GvcpUnknownCommandError.isInstance(e)).toBe(true);
      expect((e as GvcpUnknownCommandError).command).toBe(0x1234);
      expect((e as GvcpUnknownCommandError).reqId).toBe(7);
    }
  });

  it('rejects req_id 0 and a wrong key', () => {
    expect(() => decodeCommand(Uint8Array.of(0x42, 1, 0, 2, 0, 0, 0, 0))).toThrow(MalformedError);
    expect(() => decodeCommand(Uint8Array.of(0x43, 1, 0, 2, 0, 0, 0, 1))).toThrow(/0x42/);
    expect(() => encodeCommand({ type: 'discovery', reqId: 0, ackRequired: true, allowBroadcastAck: false })).toThrow(
      /reqId/,
    );
  });
});

describe('GenICam URL', () => {
  it('parses the real forms', () => {
    expect(parseGenicamUrl('Local:arv-fake-camera.xml;10000;3e67')).toMatchObject({
      scheme: 'local',
      fileName: 'arv-fake-camera.xml',
      address: 0x10000,
      size: 0x3e67,
      zipped: false,
    });
    expect(parseGenicamUrl('Local:cam.zip;c0000000;10cca')).toMatchObject({
      address: 0xc0000000,
      size: 0x10cca,
      zipped: true,
    });
    expect(parseGenicamUrl('local:x.xml;0x8C400904;0x4D30')).toMatchObject({ address: 0x8c400904, size: 0x4d30 });
    expect(parseGenicamUrl('Local:x.xml;8001000;395C?SchemaVersion=1.1.0')).toMatchObject({
      address: 0x8001000,
      size: 0x395c,
      schemaVersion: '1.1.0',
    });
    expect(parseGenicamUrl('Local:///dir/x.xml;10;20\0\0\0')).toMatchObject({ fileName: 'dir/x.xml' });
    expect(parseGenicamUrl('File:///opt/cam/x.zip?SchemaVersion=1.0.0')).toMatchObject({
      scheme: 'file',
      path: '/opt/cam/x.zip',
      zipped: true,
      schemaVersion: '1.0.0',
    });
    expect(parseGenicamUrl('http://example.com/a/x.xml')).toMatchObject({
      scheme: 'http',
      href: 'http://example.com/a/x.xml',
    });
    expect(parseGenicamUrl('https://example.com/x.zip?SchemaVersion=1.1.0')).toMatchObject({
      scheme: 'http',
      href: 'https://example.com/x.zip',
      zipped: true,
    });
  });

  it('rejects malformed URLs with a typed error', () => {
    for (const bad of [
      '',
      'x.xml',
      'Local:x.xml;10',
      'Local:x.xml;zz;10',
      'Local:x.xml;10;0',
      'Local:;10;10',
      'ftp://x/y',
      'Local:x;ffffffff;2',
      'Local:x;1;123456789',
      'File:%zz',
      'file:',
    ]) {
      expect(() => parseGenicamUrl(bad), bad).toThrow(MalformedError);
    }
  });

  it('round-trips formatted Local URLs', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/),
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.option(fc.constantFrom('1.0.0', '1.1.0'), { nil: undefined }),
        (fileName, address, size, schemaVersion) => {
          const url = formatLocalGenicamUrl(
            schemaVersion === undefined ? { fileName, address, size } : { fileName, address, size, schemaVersion },
          );
          const parsed = parseGenicamUrl(url);
          expect(parsed).toMatchObject({ scheme: 'local', fileName, address, size });
          expect(parsed.schemaVersion).toBe(schemaVersion);
        },
      ),
    );
  });

  it('turns any string into a URL or a typed error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          parseGenicamUrl(s);
        } catch (e) {
          expect(isTyped(e)).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
