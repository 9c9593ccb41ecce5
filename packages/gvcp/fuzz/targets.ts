// Fuzz targets of @cam/gvcp: every decoder of bytes a peer sends (see test-support/fuzz.ts).
import { WireError } from '@cam/net-utils';
import { zipSync } from 'fflate';
import type { FuzzTarget } from '../../../test-support/hostile-types.js';
import {
  type DeviceInfo,
  decodeAck,
  decodeAckHeader,
  decodeCommand,
  decodeCommandHeader,
  decodeDeviceInfo,
  encodeAck,
  encodeCommand,
  encodeDeviceInfo,
  type GvcpAck,
  type GvcpCommand,
  parseGenicamUrl,
  unzipOne,
  urlFromRegister,
} from '../src/index.js';

const isWireError = (e: unknown): boolean => WireError.isInstance(e);
const text = new TextEncoder();

const device: DeviceInfo = {
  specVersionMajor: 2,
  specVersionMinor: 1,
  deviceMode: 0x80000001,
  mac: '02:11:22:33:44:55',
  ipConfigSupported: 7,
  ipConfigCurrent: 5,
  ip: '192.168.1.20',
  subnetMask: '255.255.255.0',
  defaultGateway: '192.168.1.1',
  manufacturerName: 'Acme',
  modelName: 'Sim-1',
  deviceVersion: '1.0',
  manufacturerInfo: 'fuzz',
  serialNumber: 'SIM0001',
  userDefinedName: 'left',
};

const event = { eventId: 0x9001, streamChannel: 0, blockId: 7n, timestamp: 123456789n };

const commands: GvcpCommand[] = [
  { type: 'discovery', reqId: 1, ackRequired: true, allowBroadcastAck: true },
  {
    type: 'forceip',
    reqId: 2,
    ackRequired: true,
    allowBroadcastAck: false,
    mac: '02:11:22:33:44:55',
    ip: '10.0.0.2',
    mask: '255.0.0.0',
    gateway: '0.0.0.0',
  },
  { type: 'readreg', reqId: 3, ackRequired: true, addresses: [0x0a00, 0x0934, 0x0d00] },
  {
    type: 'writereg',
    reqId: 4,
    ackRequired: true,
    writes: [
      { address: 0x0a00, value: 2 },
      { address: 0x0d18, value: 0x7f000001 },
    ],
  },
  { type: 'readmem', reqId: 5, ackRequired: true, address: 0x200, count: 512 },
  { type: 'writemem', reqId: 6, ackRequired: true, address: 0x10000, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
  {
    type: 'packetresend',
    reqId: 7,
    ackRequired: false,
    extendedId: false,
    streamChannel: 0,
    blockId: 9n,
    firstPacketId: 1,
    lastPacketId: 4,
  },
  {
    type: 'packetresend',
    reqId: 8,
    ackRequired: false,
    extendedId: true,
    streamChannel: 1,
    blockId: 0x1_0000_0001n,
    firstPacketId: 1,
    lastPacketId: 0xffffffff,
  },
  { type: 'event', reqId: 9, ackRequired: true, extendedId: false, events: [event, { ...event, eventId: 2 }] },
  { type: 'event', reqId: 10, ackRequired: true, extendedId: true, events: [event] },
  { type: 'eventdata', reqId: 11, ackRequired: true, extendedId: false, event, data: Uint8Array.of(9, 8, 7, 6) },
  { type: 'action', reqId: 12, ackRequired: true, deviceKey: 1, groupKey: 2, groupMask: 0xffffffff },
  { type: 'action', reqId: 13, ackRequired: false, deviceKey: 1, groupKey: 2, groupMask: 1, actionTime: 1000n },
];

const acks: GvcpAck[] = [
  { type: 'discovery', ackId: 1, status: 0, device },
  { type: 'forceip', ackId: 2, status: 0 },
  { type: 'readreg', ackId: 3, status: 0, values: [1, 2, 0xffffffff] },
  { type: 'writereg', ackId: 4, status: 0, index: 2 },
  { type: 'readmem', ackId: 5, status: 0, address: 0x200, data: text.encode('Local:cam.zip;10000;2000\0\0\0\0') },
  { type: 'writemem', ackId: 6, status: 0, index: 8 },
  { type: 'pending', ackId: 7, status: 0, timeToCompletion: 500 },
  { type: 'event', ackId: 8, status: 0 },
  { type: 'eventdata', ackId: 9, status: 0 },
  { type: 'action', ackId: 10, status: 0 },
  { type: 'packetresend', ackId: 11, status: 0 },
  { type: 'error', ackCode: 0x0081, ackId: 12, status: 0x8006, payload: new Uint8Array(0) },
];

const urls = [
  'Local:cam.zip;10000;2f00?SchemaVersion=1.1.0',
  'Local:///Sim.xml;0x40000;0x1234',
  'File:///opt/cam/x.xml',
  'File://host/share/x.zip?SchemaVersion=1.0.0',
  'http://192.168.1.20/genicam/cam.zip',
  'https://example.com/a/b.xml?SchemaVersion=1.0',
];

const xml = text.encode(
  '<?xml version="1.0"?><RegisterDescription ModelName="Fuzz"><Integer Name="W"/></RegisterDescription>',
);

const targets: FuzzTarget[] = [
  {
    name: 'gvcp decodeCommand',
    seeds: () => commands.map(encodeCommand),
    run: (input) => void decodeCommand(input),
    isExpectedError: isWireError,
    maxInputBytes: 1024,
  },
  {
    name: 'gvcp decodeAck',
    seeds: () => acks.map(encodeAck),
    run: (input) => void decodeAck(input),
    isExpectedError: isWireError,
    maxInputBytes: 1024,
  },
  {
    name: 'gvcp decodeCommandHeader',
    seeds: () => commands.map(encodeCommand),
    run: (input) => void decodeCommandHeader(input),
    isExpectedError: isWireError,
    maxInputBytes: 64,
  },
  {
    name: 'gvcp decodeAckHeader',
    seeds: () => acks.map(encodeAck),
    run: (input) => void decodeAckHeader(input),
    isExpectedError: isWireError,
    maxInputBytes: 64,
  },
  {
    name: 'gvcp decodeDeviceInfo',
    seeds: () => [encodeDeviceInfo(device), encodeDeviceInfo({ ...device, userDefinedName: '' })],
    run: (input) => void decodeDeviceInfo(input),
    isExpectedError: isWireError,
    maxInputBytes: 512,
  },
  {
    name: 'gvcp parseGenicamUrl',
    // the URL register's bytes, as read from a device
    seeds: () => urls.map((u) => text.encode(u)),
    run: (input) => void parseGenicamUrl(urlFromRegister(input)),
    isExpectedError: isWireError,
    maxInputBytes: 512,
  },
  {
    name: 'gvcp unzipOne',
    seeds: () => [zipSync({ 'cam.xml': xml }), zipSync({ 'a.txt': text.encode('x'), 'b.xml': xml }, { level: 0 })],
    run: (input) => void unzipOne(input, 1024 * 1024),
    isExpectedError: isWireError,
    maxInputBytes: 16 * 1024,
  },
];

export default targets;
