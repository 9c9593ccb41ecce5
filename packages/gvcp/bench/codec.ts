import {
  decodeAck,
  decodeCommand,
  encodeAck,
  encodeAckInto,
  encodeCommand,
  encodeCommandInto,
  type GvcpAck,
  type GvcpCommand,
} from '../src/index.js';

const device = {
  specVersionMajor: 2,
  specVersionMinor: 1,
  deviceMode: 0x80000001,
  mac: '02:00:00:aa:bb:cc',
  ipConfigSupported: 7,
  ipConfigCurrent: 6,
  ip: '192.168.1.20',
  subnetMask: '255.255.255.0',
  defaultGateway: '192.168.1.1',
  manufacturerName: 'Acme',
  modelName: 'Cam 1',
  deviceVersion: '1.0',
  manufacturerInfo: 'info',
  serialNumber: 'SN0001',
  userDefinedName: 'left',
};
const ev = { eventId: 0x9001, streamChannel: 0, blockId: 7n, timestamp: 123456789n };

export const commands: GvcpCommand[] = [
  { type: 'discovery', reqId: 1, ackRequired: true, allowBroadcastAck: true },
  {
    type: 'forceip',
    reqId: 1,
    ackRequired: true,
    allowBroadcastAck: true,
    mac: '02:00:00:aa:bb:cc',
    ip: '10.0.0.2',
    mask: '255.0.0.0',
    gateway: '10.0.0.1',
  },
  { type: 'readreg', reqId: 1, ackRequired: true, addresses: [0x0a00] },
  { type: 'readreg', reqId: 1, ackRequired: true, addresses: Array.from({ length: 135 }, (_, i) => 4 * i) },
  { type: 'writereg', reqId: 1, ackRequired: true, writes: [{ address: 0x0a00, value: 2 }] },
  { type: 'readmem', reqId: 1, ackRequired: true, address: 0x10000, count: 512 },
  { type: 'writemem', reqId: 1, ackRequired: true, address: 0x10000, data: new Uint8Array(512) },
  {
    type: 'packetresend',
    reqId: 1,
    ackRequired: false,
    extendedId: false,
    streamChannel: 0,
    blockId: 9n,
    firstPacketId: 3,
    lastPacketId: 9,
  },
  {
    type: 'packetresend',
    reqId: 1,
    ackRequired: false,
    extendedId: true,
    streamChannel: 0,
    blockId: 9n,
    firstPacketId: 3,
    lastPacketId: 9,
  },
  { type: 'event', reqId: 1, ackRequired: true, extendedId: false, events: [ev] },
  { type: 'eventdata', reqId: 1, ackRequired: true, extendedId: true, event: ev, data: new Uint8Array(64) },
  { type: 'action', reqId: 1, ackRequired: true, deviceKey: 1, groupKey: 2, groupMask: 3 },
  { type: 'action', reqId: 1, ackRequired: true, deviceKey: 1, groupKey: 2, groupMask: 3, actionTime: 1n << 40n },
];

export const acks: GvcpAck[] = [
  { type: 'discovery', ackId: 1, status: 0, device },
  { type: 'readreg', ackId: 1, status: 0, values: [2] },
  { type: 'writereg', ackId: 1, status: 0, index: 1 },
  { type: 'readmem', ackId: 1, status: 0, address: 0x10000, data: new Uint8Array(512) },
  { type: 'pending', ackId: 1, status: 0, timeToCompletion: 100 },
];

function label(m: GvcpCommand | GvcpAck): string {
  if (m.type === 'readreg' && 'addresses' in m) return `readreg x${m.addresses.length}`;
  if ((m.type === 'packetresend' || m.type === 'event' || m.type === 'eventdata') && 'extendedId' in m) {
    return `${m.type}${m.extendedId ? ' (64-bit)' : ''}`;
  }
  if (m.type === 'action' && 'actionTime' in m) return 'action (scheduled)';
  return m.type;
}

function time(fn: () => void, budgetMs = 250): number {
  for (let i = 0; i < 2000; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  while (now < limit) {
    for (let i = 0; i < 500; i++) fn();
    n += 500;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / n;
}

export interface CodecRow {
  message: string;
  bytes: number;
  encodeNs: number;
  encodeIntoNs: number;
  decodeNs: number;
}

export function benchCodec(): CodecRow[] {
  const rows: CodecRow[] = [];
  const out = new Uint8Array(600);
  let sink = 0;
  for (const c of commands) {
    const bytes = encodeCommand(c);
    rows.push({
      message: `${label(c)} CMD`,
      bytes: bytes.byteLength,
      encodeNs: time(() => {
        sink += encodeCommand(c).byteLength;
      }),
      encodeIntoNs: time(() => {
        sink += encodeCommandInto(c, out, 0);
      }),
      decodeNs: time(() => {
        sink += decodeCommand(bytes).reqId;
      }),
    });
  }
  for (const a of acks) {
    const bytes = encodeAck(a);
    rows.push({
      message: `${label(a)} ACK`,
      bytes: bytes.byteLength,
      encodeNs: time(() => {
        sink += encodeAck(a).byteLength;
      }),
      encodeIntoNs: time(() => {
        sink += encodeAckInto(a, out, 0);
      }),
      decodeNs: time(() => {
        sink += decodeAck(bytes).ackId;
      }),
    });
  }
  if (sink === -1) console.log(sink);
  return rows;
}
