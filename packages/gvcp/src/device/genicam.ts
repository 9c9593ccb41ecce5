import { PixelFormat, TestPattern } from '../codec/pixel-format.js';
import { BootstrapRegister } from '../codec/registers.js';
import { AcquisitionMode, TriggerActivation, TriggerSelector, TriggerSource } from './acquisition.js';
import { EventSelector, FrameEventId, type FrameEventName } from './event-control.js';
import { UserSetSelector } from './user-sets.js';

/**
 * Addresses of the simulated camera's own (manufacturer-specific) feature registers, from 0xA000 as the spec
 * reserves. Every one is a 32-bit big-endian register; ExposureTime, Gain and AcquisitionFrameRate hold IEEE-754
 * float32 bits.
 */
export const FeatureRegister = {
  SensorWidth: 0xa000,
  SensorHeight: 0xa004,
  Width: 0xa008,
  Height: 0xa00c,
  OffsetX: 0xa010,
  OffsetY: 0xa014,
  PixelFormat: 0xa018,
  PayloadSize: 0xa01c,
  AcquisitionMode: 0xa020,
  AcquisitionStart: 0xa024,
  AcquisitionStop: 0xa028,
  ExposureTime: 0xa02c,
  Gain: 0xa030,
  TestPattern: 0xa034,
  TLParamsLocked: 0xa038,
  AcquisitionFrameRate: 0xa03c,
  TriggerMode: 0xa040,
  TriggerSoftware: 0xa044,
  AcquisitionStatus: 0xa048,
  TestEventGenerate: 0xa04c,
  AcquisitionFrameCount: 0xa050,
  TriggerSelector: 0xa054,
  TriggerSource: 0xa058,
  TriggerActivation: 0xa05c,
  BlackLevel: 0xa060,
  ReverseX: 0xa064,
  ReverseY: 0xa068,
  ChunkModeActive: 0xa06c,
  ChunkSelector: 0xa070,
  /** ChunkEnable of each {@link ChunkSelector} entry, 4 bytes apart. */
  ChunkEnable: 0xa080,
  EventSelector: 0xa074,
  /** EventNotification of each EventSelector entry, 4 bytes apart. */
  EventNotification: 0xa090,
  UserSetSelector: 0xa0c0,
  UserSetLoad: 0xa0c4,
  UserSetSave: 0xa0c8,
  DeviceReset: 0xa0cc,
} as const;
export type FeatureRegister = (typeof FeatureRegister)[keyof typeof FeatureRegister];

/**
 * The pixel formats the simulated camera offers, by the names its GenICam XML gives them. The ids come from the one
 * PFNC table ({@link PixelFormat} in the codec); three entries carry their GigE Vision 1.x names: RGB8Packed is PFNC
 * RGB8, BGR8Packed BGR8, YUV422Packed YUV422_8_UYVY.
 */
export const SimulatedPixelFormat = {
  Mono8: PixelFormat.Mono8,
  Mono10: PixelFormat.Mono10,
  Mono12: PixelFormat.Mono12,
  Mono16: PixelFormat.Mono16,
  Mono10p: PixelFormat.Mono10p,
  Mono12p: PixelFormat.Mono12p,
  BayerGR8: PixelFormat.BayerGR8,
  BayerRG8: PixelFormat.BayerRG8,
  BayerGB8: PixelFormat.BayerGB8,
  BayerBG8: PixelFormat.BayerBG8,
  RGB8Packed: PixelFormat.RGB8,
  BGR8Packed: PixelFormat.BGR8,
  YUV422Packed: PixelFormat.YUV422_8_UYVY,
  YUV422_8: PixelFormat.YUV422_8,
} as const;
export type SimulatedPixelFormatName = keyof typeof SimulatedPixelFormat;

/** ChunkSelector values: the chunks a frame can carry. */
export const ChunkSelector = { Timestamp: 0, FrameID: 1, ExposureTime: 2, Gain: 3 } as const;
export type ChunkName = keyof typeof ChunkSelector;

/**
 * ChunkIDs of the simulated camera's chunks (the tag after each chunk's data; the XML's chunk Port nodes name them).
 * The image is a chunk too, first, so the chunk walk from the payload's end stops at its start.
 */
export const ChunkId = {
  Image: 0x0000_0001,
  Timestamp: 0x0000_0101,
  FrameID: 0x0000_0102,
  ExposureTime: 0x0000_0103,
  Gain: 0x0000_0104,
} as const;

/** Data bytes of each chunk: Timestamp and FrameID 64-bit unsigned, ExposureTime and Gain IEEE-754 doubles, big-endian. */
export const CHUNK_DATA_LENGTH = 8;

/** Event id the `TestEventGenerate` command sends (the device-specific range starts at 0x9000). */
export const TEST_EVENT_ID = 0x9000;

/** What the generated description says about the device. */
export interface GenicamXmlOptions {
  vendorName: string;
  modelName: string;
  /** Number of action signals (ActionSelector max + 1). */
  actionSignals: number;
  /** Largest sensor size, for Width/Height/Offset limits. */
  sensorWidth: number;
  sensorHeight: number;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const hex = (n: number): string => `0x${n.toString(16).toUpperCase()}`;

type Access = 'RO' | 'RW' | 'WO';

interface RegOpts {
  length?: number;
  cachable?: 'NoCache' | 'WriteThrough' | 'WriteAround';
  index?: { node: string; offset: number };
}

function intReg(name: string, address: number, access: Access, o: RegOpts = {}): string {
  return `  <IntReg Name="${name}">
    <Address>${hex(address)}</Address>${o.index ? `\n    <pIndex Offset="${hex(o.index.offset)}">${o.index.node}</pIndex>` : ''}
    <Length>${o.length ?? 4}</Length>
    <AccessMode>${access}</AccessMode>
    <pPort>Device</pPort>${o.cachable ? `\n    <Cachable>${o.cachable}</Cachable>` : ''}
    <Sign>Unsigned</Sign>
    <Endianess>BigEndian</Endianess>
  </IntReg>
`;
}

/** A bit field of a big-endian 32-bit register; GenICam numbers big-endian bits from the MSB (bit 0 = 0x80000000). */
function maskedReg(
  name: string,
  address: number,
  access: Access,
  bits: { lsb: number; msb: number } | number,
  o: RegOpts = {},
): string {
  const field = typeof bits === 'number' ? `<Bit>${bits}</Bit>` : `<LSB>${bits.lsb}</LSB>\n    <MSB>${bits.msb}</MSB>`;
  return `  <MaskedIntReg Name="${name}">
    <Address>${hex(address)}</Address>
    <Length>4</Length>
    <AccessMode>${access}</AccessMode>
    <pPort>Device</pPort>${o.cachable ? `\n    <Cachable>${o.cachable}</Cachable>` : ''}
    ${field}
    <Sign>Unsigned</Sign>
    <Endianess>BigEndian</Endianess>
  </MaskedIntReg>
`;
}

interface IntOpts {
  description?: string;
  min?: number;
  max?: number;
  pMax?: string;
  inc?: number;
  unit?: string;
  locked?: boolean;
  visibility?: 'Beginner' | 'Expert' | 'Guru' | 'Invisible';
  representation?: 'Linear' | 'HexNumber' | 'IPV4Address' | 'MACAddress' | 'PureNumber';
}

function integer(name: string, pValue: string, o: IntOpts = {}): string {
  const lines = [
    o.description ? `<Description>${esc(o.description)}</Description>` : '',
    o.visibility ? `<Visibility>${o.visibility}</Visibility>` : '',
    o.locked ? '<pIsLocked>TLParamsLocked</pIsLocked>' : '',
    `<pValue>${pValue}</pValue>`,
    o.min !== undefined ? `<Min>${o.min}</Min>` : '',
    o.pMax ? `<pMax>${o.pMax}</pMax>` : o.max !== undefined ? `<Max>${o.max}</Max>` : '',
    o.inc !== undefined ? `<Inc>${o.inc}</Inc>` : '',
    o.unit ? `<Unit>${o.unit}</Unit>` : '',
    o.representation ? `<Representation>${o.representation}</Representation>` : '',
  ].filter(Boolean);
  return `  <Integer Name="${name}">\n${lines.map((l) => `    ${l}`).join('\n')}\n  </Integer>\n`;
}

function enumeration(
  name: string,
  pValue: string,
  entries: Record<string, number>,
  o: IntOpts & { selected?: string[] } = {},
): string {
  const head = [
    o.description ? `<Description>${esc(o.description)}</Description>` : '',
    o.visibility ? `<Visibility>${o.visibility}</Visibility>` : '',
    o.locked ? '<pIsLocked>TLParamsLocked</pIsLocked>' : '',
  ].filter(Boolean);
  const body = Object.entries(entries)
    .map(([n, v]) => `    <EnumEntry Name="${n}">\n      <Value>${v}</Value>\n    </EnumEntry>`)
    .join('\n');
  const selected = (o.selected ?? []).map((f) => `\n    <pSelected>${f}</pSelected>`).join('');
  return `  <Enumeration Name="${name}">\n${head.map((l) => `    ${l}\n`).join('')}${body}\n    <pValue>${pValue}</pValue>${selected}\n  </Enumeration>\n`;
}

function command(name: string, pValue: string, value: number, description: string): string {
  return `  <Command Name="${name}">
    <Description>${esc(description)}</Description>
    <pValue>${pValue}</pValue>
    <CommandValue>${value}</CommandValue>
  </Command>
`;
}

function stringReg(name: string, address: number, length: number, access: Access, description: string): string {
  return `  <StringReg Name="${name}">
    <Description>${esc(description)}</Description>
    <Address>${hex(address)}</Address>
    <Length>${length}</Length>
    <AccessMode>${access}</AccessMode>
    <pPort>Device</pPort>
  </StringReg>
`;
}

function float(
  name: string,
  pValue: string,
  min: number,
  max: number,
  unit: string,
  description: string,
  locked = false,
): string {
  return `  <Float Name="${name}">
    <Description>${esc(description)}</Description>${locked ? '\n    <pIsLocked>TLParamsLocked</pIsLocked>' : ''}
    <pValue>${pValue}</pValue>
    <Min>${min.toFixed(1)}</Min>
    <Max>${max.toFixed(1)}</Max>
    <Unit>${unit}</Unit>
  </Float>
  <FloatReg Name="${pValue}">
    <Address>${hex(FeatureRegister[name as keyof typeof FeatureRegister])}</Address>
    <Length>4</Length>
    <AccessMode>RW</AccessMode>
    <pPort>Device</pPort>
    <Endianess>BigEndian</Endianess>
  </FloatReg>
`;
}

function category(name: string, features: string[]): string {
  return `  <Category Name="${name}">\n${features.map((f) => `    <pFeature>${f}</pFeature>`).join('\n')}\n  </Category>\n`;
}

/**
 * The GenICam (GenApi schema 1.1) description of the simulated camera: standard feature names (SFNC) over the
 * bootstrap registers and the {@link FeatureRegister} block, one `Device` port, a `Root` category.
 */
export function buildGenicamXml(o: GenicamXmlOptions): string {
  const B = BootstrapRegister;
  const F = FeatureRegister;
  const sc0 = B.STREAM_CHANNEL_BASE;
  const parts: string[] = [];
  parts.push(`<?xml version="1.0" encoding="utf-8"?>
<RegisterDescription
  ModelName="${esc(o.modelName)}"
  VendorName="${esc(o.vendorName)}"
  ToolTip="Simulated GigE Vision camera (@cam/gvcp GvcpDevice)"
  StandardNameSpace="GEV"
  SchemaMajorVersion="1"
  SchemaMinorVersion="1"
  SchemaSubMinorVersion="0"
  MajorVersion="1"
  MinorVersion="0"
  SubMinorVersion="0"
  ProductGuid="8A1D2C52-6F0B-4C56-9B7B-0C3AF3A1D001"
  VersionGuid="8A1D2C52-6F0B-4C56-9B7B-0C3AF3A1D101"
  xmlns="http://www.genicam.org/GenApi/Version_1_1"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.genicam.org/GenApi/Version_1_1 http://www.genicam.org/GenApi/GenApiSchema_Version_1_1.xsd">
`);
  parts.push(
    category('Root', [
      'ChunkDataControl',
      'DeviceControl',
      'UserSetControl',
      'ImageFormatControl',
      'AcquisitionControl',
      'AnalogControl',
      'TransportLayerControl',
      'ActionControl',
      'EventControl',
    ]),
  );

  // Device control: the bootstrap strings.
  parts.push(
    category('DeviceControl', [
      'DeviceVendorName',
      'DeviceModelName',
      'DeviceVersion',
      'DeviceManufacturerInfo',
      'DeviceID',
      'DeviceSerialNumber',
      'DeviceUserID',
      'DeviceReset',
    ]),
  );
  parts.push(stringReg('DeviceVendorName', B.MANUFACTURER_NAME, 32, 'RO', 'Name of the manufacturer.'));
  parts.push(stringReg('DeviceModelName', B.MODEL_NAME, 32, 'RO', 'Model of the device.'));
  parts.push(stringReg('DeviceVersion', B.DEVICE_VERSION, 32, 'RO', 'Version of the device.'));
  parts.push(stringReg('DeviceManufacturerInfo', B.MANUFACTURER_INFO, 48, 'RO', 'Manufacturer information.'));
  parts.push(stringReg('DeviceID', B.SERIAL_NUMBER, 16, 'RO', 'Serial number of the device (deprecated name).'));
  parts.push(stringReg('DeviceSerialNumber', B.SERIAL_NUMBER, 16, 'RO', 'Serial number of the device.'));
  parts.push(stringReg('DeviceUserID', B.USER_DEFINED_NAME, 16, 'RW', 'User-programmable device name.'));

  // Image format control.
  parts.push(
    category('ImageFormatControl', [
      'SensorWidth',
      'SensorHeight',
      'Width',
      'Height',
      'OffsetX',
      'OffsetY',
      'PixelFormat',
      'ReverseX',
      'ReverseY',
      'TestPattern',
    ]),
  );
  parts.push(integer('SensorWidth', 'SensorWidthReg', { description: 'Width of the sensor in pixels.' }));
  parts.push(intReg('SensorWidthReg', F.SensorWidth, 'RO'));
  parts.push(integer('SensorHeight', 'SensorHeightReg', { description: 'Height of the sensor in pixels.' }));
  parts.push(intReg('SensorHeightReg', F.SensorHeight, 'RO'));
  parts.push(
    integer('Width', 'WidthReg', {
      description: 'Width of the image in pixels.',
      min: 1,
      pMax: 'WidthMax',
      inc: 1,
      locked: true,
    }),
  );
  parts.push(intReg('WidthReg', F.Width, 'RW'));
  parts.push(
    integer('Height', 'HeightReg', {
      description: 'Height of the image in pixels.',
      min: 1,
      pMax: 'HeightMax',
      inc: 1,
      locked: true,
    }),
  );
  parts.push(intReg('HeightReg', F.Height, 'RW'));
  parts.push(
    integer('OffsetX', 'OffsetXReg', {
      description: 'Horizontal offset of the image.',
      min: 0,
      pMax: 'OffsetXMax',
      inc: 1,
      locked: true,
    }),
  );
  parts.push(intReg('OffsetXReg', F.OffsetX, 'RW'));
  parts.push(
    integer('OffsetY', 'OffsetYReg', {
      description: 'Vertical offset of the image.',
      min: 0,
      pMax: 'OffsetYMax',
      inc: 1,
      locked: true,
    }),
  );
  parts.push(intReg('OffsetYReg', F.OffsetY, 'RW'));
  // The image is a region of the sensor: each of size and offset is bounded by the other.
  for (const [name, formula, a, b] of [
    ['WidthMax', 'SW - OX', 'SensorWidth', 'OffsetXReg'],
    ['HeightMax', 'SH - OY', 'SensorHeight', 'OffsetYReg'],
    ['OffsetXMax', 'SW - W', 'SensorWidth', 'WidthReg'],
    ['OffsetYMax', 'SH - H', 'SensorHeight', 'HeightReg'],
  ] as const) {
    const [va, vb] = formula.split(' - ') as [string, string];
    parts.push(`  <IntSwissKnife Name="${name}">
    <Visibility>Invisible</Visibility>
    <pVariable Name="${va}">${a}</pVariable>
    <pVariable Name="${vb}">${b}</pVariable>
    <Formula>${formula}</Formula>
  </IntSwissKnife>
`);
  }
  parts.push(
    float('BlackLevel', 'BlackLevelReg', 0, 10, '%', 'Black level, in percent of full scale, added to every pixel.'),
  );
  for (const axis of ['X', 'Y'] as const) {
    parts.push(`  <Boolean Name="Reverse${axis}">
    <Description>Mirrors the sensor ${axis === 'X' ? 'horizontally' : 'vertically'} (the region applies after).</Description>
    <pIsLocked>TLParamsLocked</pIsLocked>
    <pValue>Reverse${axis}Reg</pValue>
  </Boolean>
`);
    parts.push(intReg(`Reverse${axis}Reg`, F[`Reverse${axis}`], 'RW'));
  }
  parts.push(
    enumeration('PixelFormat', 'PixelFormatReg', SimulatedPixelFormat, {
      description: 'Format of the pixels.',
      locked: true,
    }),
  );
  parts.push(intReg('PixelFormatReg', F.PixelFormat, 'RW'));
  parts.push(
    enumeration('TestPattern', 'TestPatternReg', TestPattern, { description: 'Test pattern the camera sends.' }),
  );
  parts.push(intReg('TestPatternReg', F.TestPattern, 'RW'));

  // Acquisition control.
  parts.push(
    category('AcquisitionControl', [
      'AcquisitionMode',
      'AcquisitionStart',
      'AcquisitionStop',
      'AcquisitionFrameRate',
      'AcquisitionStatus',
      'AcquisitionFrameCount',
      'ExposureTime',
      'TriggerSelector',
      'TriggerMode',
      'TriggerSource',
      'TriggerActivation',
      'TriggerSoftware',
    ]),
  );
  parts.push(
    enumeration('AcquisitionMode', 'AcquisitionModeReg', AcquisitionMode, {
      description: 'Acquisition mode.',
      locked: true,
    }),
  );
  parts.push(intReg('AcquisitionModeReg', F.AcquisitionMode, 'RW'));
  parts.push(command('AcquisitionStart', 'AcquisitionStartReg', 1, 'Starts the acquisition.'));
  parts.push(intReg('AcquisitionStartReg', F.AcquisitionStart, 'RW'));
  parts.push(command('AcquisitionStop', 'AcquisitionStopReg', 1, 'Stops the acquisition.'));
  parts.push(intReg('AcquisitionStopReg', F.AcquisitionStop, 'RW'));
  parts.push(
    float('AcquisitionFrameRate', 'AcquisitionFrameRateReg', 0.1, 1000, 'Hz', 'Frame rate of continuous acquisition.'),
  );
  parts.push(`  <Boolean Name="AcquisitionStatus">
    <Description>True while the acquisition runs.</Description>
    <pValue>AcquisitionStatusReg</pValue>
    <OnValue>1</OnValue>
    <OffValue>0</OffValue>
  </Boolean>
`);
  parts.push(intReg('AcquisitionStatusReg', F.AcquisitionStatus, 'RO', { cachable: 'NoCache' }));
  parts.push(float('ExposureTime', 'ExposureTimeReg', 10, 10_000_000, 'us', 'Exposure time in microseconds.'));
  parts.push(
    integer('AcquisitionFrameCount', 'AcquisitionFrameCountReg', {
      description: 'Frames one MultiFrame acquisition takes.',
      min: 1,
      max: 65535,
      locked: true,
    }),
  );
  parts.push(intReg('AcquisitionFrameCountReg', F.AcquisitionFrameCount, 'RW'));
  // The trigger features are selected by TriggerSelector (one trigger, FrameStart, on this camera).
  parts.push(
    enumeration('TriggerSelector', 'TriggerSelectorReg', TriggerSelector, {
      description: 'Which trigger TriggerMode, TriggerSource, TriggerActivation and TriggerSoftware configure.',
      selected: ['TriggerMode', 'TriggerSource', 'TriggerActivation', 'TriggerSoftware'],
    }),
  );
  parts.push(intReg('TriggerSelectorReg', F.TriggerSelector, 'RW'));
  parts.push(
    enumeration('TriggerMode', 'TriggerModeReg', { Off: 0, On: 1 }, { description: 'Frames start on a trigger.' }),
  );
  parts.push(intReg('TriggerModeReg', F.TriggerMode, 'RW'));
  parts.push(
    enumeration('TriggerSource', 'TriggerSourceReg', TriggerSource, { description: 'Signal that is the trigger.' }),
  );
  parts.push(intReg('TriggerSourceReg', F.TriggerSource, 'RW'));
  parts.push(
    enumeration('TriggerActivation', 'TriggerActivationReg', TriggerActivation, {
      description: 'Edge of a line input that triggers.',
    }),
  );
  parts.push(intReg('TriggerActivationReg', F.TriggerActivation, 'RW'));
  parts.push(command('TriggerSoftware', 'TriggerSoftwareReg', 1, 'Generates a software trigger.'));
  parts.push(intReg('TriggerSoftwareReg', F.TriggerSoftware, 'RW'));

  // Analog control.
  parts.push(category('AnalogControl', ['Gain', 'BlackLevel']));
  parts.push(float('Gain', 'GainReg', 0, 48, 'dB', 'Gain in dB.'));

  // Transport layer: payload, stream channel 0, message channel, control channel, timestamp, network.
  parts.push(
    category('TransportLayerControl', [
      'PayloadSize',
      'TLParamsLocked',
      'GevVersionMajor',
      'GevVersionMinor',
      'GevDeviceModeIsBigEndian',
      'GevMACAddress',
      'GevCurrentIPAddress',
      'GevCurrentSubnetMask',
      'GevCurrentDefaultGateway',
      'GevCurrentIPConfigurationPersistentIP',
      'GevPersistentIPAddress',
      'GevPersistentSubnetMask',
      'GevPersistentDefaultGateway',
      'GevFirstURL',
      'GevSecondURL',
      'GevNumberOfInterfaces',
      'GevMessageChannelCount',
      'GevStreamChannelCount',
      'GevHeartbeatTimeout',
      'GevGVCPHeartbeatDisable',
      'GevGVCPPendingAck',
      'GevGVCPPendingTimeout',
      'GevDiscoveryAckDelay',
      'GevCCP',
      'GevPrimaryApplicationSwitchoverKey',
      'GevPrimaryApplicationSocket',
      'GevPrimaryApplicationIPAddress',
      'GevTimestampTickFrequency',
      'GevTimestampControlLatch',
      'GevTimestampControlReset',
      'GevTimestampValue',
      'GevMCPHostPort',
      'GevMCDA',
      'GevMCTT',
      'GevMCRC',
      'GevMCSP',
      'GevSCPHostPort',
      'GevSCPSPacketSize',
      'GevSCPSFireTestPacket',
      'GevSCPSDoNotFragment',
      'GevSCPSBigEndian',
      'GevSCPD',
      'GevSCDA',
      'GevSCSP',
      'GevGVSPExtendedIDMode',
    ]),
  );
  parts.push(integer('PayloadSize', 'PayloadSizeReg', { description: 'Bytes of one image.' }));
  parts.push(intReg('PayloadSizeReg', F.PayloadSize, 'RO', { cachable: 'NoCache' }));
  parts.push(
    integer('TLParamsLocked', 'TLParamsLockedReg', {
      description: 'Locks the parameters that define the payload while streaming.',
      min: 0,
      max: 1,
      visibility: 'Invisible',
    }),
  );
  parts.push(intReg('TLParamsLockedReg', F.TLParamsLocked, 'RW'));
  parts.push(integer('GevVersionMajor', 'GevVersionMajorReg', { visibility: 'Expert' }));
  parts.push(maskedReg('GevVersionMajorReg', B.VERSION, 'RO', { lsb: 15, msb: 0 }));
  parts.push(integer('GevVersionMinor', 'GevVersionMinorReg', { visibility: 'Expert' }));
  parts.push(maskedReg('GevVersionMinorReg', B.VERSION, 'RO', { lsb: 31, msb: 16 }));
  parts.push(`  <Boolean Name="GevDeviceModeIsBigEndian">
    <Visibility>Expert</Visibility>
    <pValue>GevDeviceModeIsBigEndianReg</pValue>
  </Boolean>
`);
  parts.push(maskedReg('GevDeviceModeIsBigEndianReg', B.DEVICE_MODE, 'RO', 0));
  parts.push(integer('GevMACAddress', 'GevMACAddressReg', { representation: 'MACAddress' }));
  parts.push(intReg('GevMACAddressReg', B.DEVICE_MAC_ADDRESS_HIGH, 'RO', { length: 8 }));
  parts.push(integer('GevCurrentIPAddress', 'GevCurrentIPAddressReg', { representation: 'IPV4Address' }));
  parts.push(intReg('GevCurrentIPAddressReg', B.CURRENT_IP_ADDRESS, 'RO', { cachable: 'NoCache' }));
  parts.push(integer('GevCurrentSubnetMask', 'GevCurrentSubnetMaskReg', { representation: 'IPV4Address' }));
  parts.push(intReg('GevCurrentSubnetMaskReg', B.CURRENT_SUBNET_MASK, 'RO', { cachable: 'NoCache' }));
  parts.push(integer('GevCurrentDefaultGateway', 'GevCurrentDefaultGatewayReg', { representation: 'IPV4Address' }));
  parts.push(intReg('GevCurrentDefaultGatewayReg', B.CURRENT_DEFAULT_GATEWAY, 'RO', { cachable: 'NoCache' }));
  parts.push(`  <Boolean Name="GevCurrentIPConfigurationPersistentIP">
    <pValue>GevCurrentIPConfigurationPersistentIPReg</pValue>
  </Boolean>
`);
  parts.push(maskedReg('GevCurrentIPConfigurationPersistentIPReg', B.CURRENT_IP_CONFIGURATION, 'RW', 31));
  parts.push(integer('GevPersistentIPAddress', 'GevPersistentIPAddressReg', { representation: 'IPV4Address' }));
  parts.push(intReg('GevPersistentIPAddressReg', B.PERSISTENT_IP_ADDRESS, 'RW'));
  parts.push(integer('GevPersistentSubnetMask', 'GevPersistentSubnetMaskReg', { representation: 'IPV4Address' }));
  parts.push(intReg('GevPersistentSubnetMaskReg', B.PERSISTENT_SUBNET_MASK, 'RW'));
  parts.push(
    integer('GevPersistentDefaultGateway', 'GevPersistentDefaultGatewayReg', { representation: 'IPV4Address' }),
  );
  parts.push(intReg('GevPersistentDefaultGatewayReg', B.PERSISTENT_DEFAULT_GATEWAY, 'RW'));
  parts.push(stringReg('GevFirstURL', B.FIRST_URL, 512, 'RO', 'Where the GenICam description is.'));
  parts.push(stringReg('GevSecondURL', B.SECOND_URL, 512, 'RO', 'Second location of the GenICam description.'));
  parts.push(integer('GevNumberOfInterfaces', 'GevNumberOfInterfacesReg', { visibility: 'Expert' }));
  parts.push(intReg('GevNumberOfInterfacesReg', B.NUMBER_OF_NETWORK_INTERFACES, 'RO'));
  parts.push(integer('GevMessageChannelCount', 'GevMessageChannelCountReg', { visibility: 'Expert' }));
  parts.push(intReg('GevMessageChannelCountReg', B.NUMBER_OF_MESSAGE_CHANNELS, 'RO'));
  parts.push(integer('GevStreamChannelCount', 'GevStreamChannelCountReg', { visibility: 'Expert' }));
  parts.push(intReg('GevStreamChannelCountReg', B.NUMBER_OF_STREAM_CHANNELS, 'RO'));
  parts.push(
    integer('GevHeartbeatTimeout', 'GevHeartbeatTimeoutReg', {
      description: 'Control channel heartbeat timeout.',
      min: 100,
      max: 600_000,
      unit: 'ms',
    }),
  );
  parts.push(intReg('GevHeartbeatTimeoutReg', B.HEARTBEAT_TIMEOUT, 'RW'));
  parts.push(`  <Boolean Name="GevGVCPHeartbeatDisable">
    <Visibility>Expert</Visibility>
    <pValue>GevGVCPHeartbeatDisableReg</pValue>
  </Boolean>
`);
  parts.push(maskedReg('GevGVCPHeartbeatDisableReg', B.GVCP_CONFIGURATION, 'RW', 31));
  parts.push(`  <Boolean Name="GevGVCPPendingAck">
    <Visibility>Expert</Visibility>
    <pValue>GevGVCPPendingAckReg</pValue>
  </Boolean>
`);
  parts.push(maskedReg('GevGVCPPendingAckReg', B.GVCP_CONFIGURATION, 'RW', 30));
  parts.push(integer('GevGVCPPendingTimeout', 'GevGVCPPendingTimeoutReg', { unit: 'ms', visibility: 'Expert' }));
  parts.push(intReg('GevGVCPPendingTimeoutReg', B.PENDING_TIMEOUT, 'RO'));
  parts.push(
    integer('GevDiscoveryAckDelay', 'GevDiscoveryAckDelayReg', { unit: 'ms', min: 0, max: 1000, visibility: 'Expert' }),
  );
  parts.push(intReg('GevDiscoveryAckDelayReg', B.DISCOVERY_ACK_DELAY, 'RW'));
  parts.push(
    enumeration(
      'GevCCP',
      'GevCCPReg',
      { OpenAccess: 0, ExclusiveAccess: 1, ControlAccess: 2, ControlAccessSwitchoverActive: 6 },
      { description: 'Control channel privilege.' },
    ),
  );
  parts.push(intReg('GevCCPReg', B.CCP, 'RW', { cachable: 'NoCache' }));
  parts.push(
    integer('GevPrimaryApplicationSwitchoverKey', 'GevPrimaryApplicationSwitchoverKeyReg', { visibility: 'Guru' }),
  );
  parts.push(intReg('GevPrimaryApplicationSwitchoverKeyReg', B.CONTROL_SWITCHOVER_KEY, 'WO'));
  parts.push(integer('GevPrimaryApplicationSocket', 'GevPrimaryApplicationSocketReg', { visibility: 'Guru' }));
  parts.push(
    maskedReg(
      'GevPrimaryApplicationSocketReg',
      B.PRIMARY_APPLICATION_PORT,
      'RO',
      { lsb: 31, msb: 16 },
      { cachable: 'NoCache' },
    ),
  );
  parts.push(
    integer('GevPrimaryApplicationIPAddress', 'GevPrimaryApplicationIPAddressReg', {
      representation: 'IPV4Address',
      visibility: 'Guru',
    }),
  );
  parts.push(
    intReg('GevPrimaryApplicationIPAddressReg', B.PRIMARY_APPLICATION_IP_ADDRESS, 'RO', { cachable: 'NoCache' }),
  );
  parts.push(
    integer('GevTimestampTickFrequency', 'GevTimestampTickFrequencyReg', { unit: 'Hz', visibility: 'Expert' }),
  );
  parts.push(intReg('GevTimestampTickFrequencyReg', B.TIMESTAMP_TICK_FREQUENCY_HIGH, 'RO', { length: 8 }));
  parts.push(
    command('GevTimestampControlLatch', 'GevTimestampControlReg', 2, 'Latches the timestamp into GevTimestampValue.'),
  );
  parts.push(command('GevTimestampControlReset', 'GevTimestampControlReg', 1, 'Resets the timestamp counter to 0.'));
  parts.push(intReg('GevTimestampControlReg', B.TIMESTAMP_CONTROL, 'WO'));
  parts.push(integer('GevTimestampValue', 'GevTimestampValueReg', { description: 'Latched timestamp.' }));
  parts.push(intReg('GevTimestampValueReg', B.TIMESTAMP_VALUE_HIGH, 'RO', { length: 8, cachable: 'NoCache' }));
  parts.push(integer('GevMCPHostPort', 'GevMCPHostPortReg', { min: 0, max: 65535 }));
  parts.push(maskedReg('GevMCPHostPortReg', B.MCP, 'RW', { lsb: 31, msb: 16 }));
  parts.push(integer('GevMCDA', 'GevMCDAReg', { representation: 'IPV4Address' }));
  parts.push(intReg('GevMCDAReg', B.MCDA, 'RW'));
  parts.push(integer('GevMCTT', 'GevMCTTReg', { unit: 'ms' }));
  parts.push(intReg('GevMCTTReg', B.MCTT, 'RW'));
  parts.push(integer('GevMCRC', 'GevMCRCReg', { min: 0, max: 100 }));
  parts.push(intReg('GevMCRCReg', B.MCRC, 'RW'));
  parts.push(integer('GevMCSP', 'GevMCSPReg', { visibility: 'Expert' }));
  parts.push(maskedReg('GevMCSPReg', B.MCSP, 'RO', { lsb: 31, msb: 16 }, { cachable: 'NoCache' }));
  parts.push(integer('GevSCPHostPort', 'GevSCPHostPortReg', { min: 0, max: 65535 }));
  parts.push(maskedReg('GevSCPHostPortReg', sc0, 'RW', { lsb: 31, msb: 16 }));
  parts.push(
    integer('GevSCPSPacketSize', 'GevSCPSPacketSizeReg', {
      description: 'Stream packet size in bytes (IP datagram).',
      min: 576,
      max: 9000,
      inc: 4,
      unit: 'B',
    }),
  );
  parts.push(maskedReg('GevSCPSPacketSizeReg', sc0 + 0x04, 'RW', { lsb: 31, msb: 16 }));
  parts.push(command('GevSCPSFireTestPacket', 'GevSCPSFireTestPacketReg', 1, 'Sends one test packet.'));
  parts.push(maskedReg('GevSCPSFireTestPacketReg', sc0 + 0x04, 'RW', 0));
  parts.push(`  <Boolean Name="GevSCPSDoNotFragment">
    <pValue>GevSCPSDoNotFragmentReg</pValue>
  </Boolean>
`);
  parts.push(maskedReg('GevSCPSDoNotFragmentReg', sc0 + 0x04, 'RW', 1));
  parts.push(`  <Boolean Name="GevSCPSBigEndian">
    <pValue>GevSCPSBigEndianReg</pValue>
  </Boolean>
`);
  parts.push(maskedReg('GevSCPSBigEndianReg', sc0 + 0x04, 'RW', 2));
  parts.push(
    integer('GevSCPD', 'GevSCPDReg', {
      description: 'Delay between stream packets, in timestamp ticks.',
      min: 0,
      max: 0xffffffff,
    }),
  );
  parts.push(intReg('GevSCPDReg', sc0 + 0x08, 'RW'));
  parts.push(integer('GevSCDA', 'GevSCDAReg', { representation: 'IPV4Address' }));
  parts.push(intReg('GevSCDAReg', sc0 + 0x18, 'RW'));
  parts.push(integer('GevSCSP', 'GevSCSPReg', { visibility: 'Expert' }));
  parts.push(maskedReg('GevSCSPReg', sc0 + 0x1c, 'RO', { lsb: 31, msb: 16 }, { cachable: 'NoCache' }));
  parts.push(`  <Boolean Name="GevGVSPExtendedIDMode">
    <Visibility>Expert</Visibility>
    <pValue>GevGVSPExtendedIDModeReg</pValue>
  </Boolean>
`);
  parts.push(maskedReg('GevGVSPExtendedIDModeReg', B.GVSP_CONFIGURATION, 'RW', 1));

  // Action control.
  parts.push(category('ActionControl', ['ActionDeviceKey', 'ActionSelector', 'ActionGroupKey', 'ActionGroupMask']));
  parts.push(
    integer('ActionDeviceKey', 'ActionDeviceKeyReg', {
      description: 'Key an ACTION must carry.',
      representation: 'HexNumber',
    }),
  );
  parts.push(intReg('ActionDeviceKeyReg', B.ACTION_DEVICE_KEY, 'WO'));
  parts.push(`  <Integer Name="ActionSelector">
    <Description>Which action signal ActionGroupKey and ActionGroupMask configure.</Description>
    <Value>0</Value>
    <Min>0</Min>
    <Max>${Math.max(0, o.actionSignals - 1)}</Max>
  </Integer>
`);
  parts.push(integer('ActionGroupKey', 'ActionGroupKeyReg', { representation: 'HexNumber' }));
  parts.push(
    intReg('ActionGroupKeyReg', B.ACTION_GROUP_KEY_BASE, 'RW', { index: { node: 'ActionSelector', offset: 0x10 } }),
  );
  parts.push(integer('ActionGroupMask', 'ActionGroupMaskReg', { representation: 'HexNumber' }));
  parts.push(
    intReg('ActionGroupMaskReg', B.ACTION_GROUP_MASK_BASE, 'RW', { index: { node: 'ActionSelector', offset: 0x10 } }),
  );

  // Chunk data: ChunkModeActive and one ChunkEnable per ChunkSelector entry; each chunk read through its own port.
  parts.push(
    category('ChunkDataControl', [
      'ChunkModeActive',
      'ChunkSelector',
      'ChunkEnable',
      'ChunkTimestamp',
      'ChunkFrameID',
      'ChunkExposureTime',
      'ChunkGain',
    ]),
  );
  parts.push(`  <Boolean Name="ChunkModeActive">
    <Description>Frames carry the enabled chunks after the image.</Description>
    <pIsLocked>TLParamsLocked</pIsLocked>
    <pValue>ChunkModeActiveReg</pValue>
  </Boolean>
`);
  parts.push(intReg('ChunkModeActiveReg', F.ChunkModeActive, 'RW'));
  parts.push(
    enumeration('ChunkSelector', 'ChunkSelectorReg', ChunkSelector, {
      description: 'Which chunk ChunkEnable switches.',
      selected: ['ChunkEnable'],
    }),
  );
  parts.push(intReg('ChunkSelectorReg', F.ChunkSelector, 'RW'));
  parts.push(`  <Boolean Name="ChunkEnable">
    <Description>The selected chunk is in every frame while ChunkModeActive.</Description>
    <pIsLocked>TLParamsLocked</pIsLocked>
    <pValue>ChunkEnableReg</pValue>
  </Boolean>
`);
  parts.push(intReg('ChunkEnableReg', F.ChunkEnable, 'RW', { index: { node: 'ChunkSelector', offset: 4 } }));
  for (const name of Object.keys(ChunkSelector) as ChunkName[]) {
    const isFloat = name === 'ExposureTime' || name === 'Gain';
    parts.push(`  <Port Name="Chunk${name}Port">
    <ChunkID>${ChunkId[name].toString(16).toUpperCase()}</ChunkID>
  </Port>
  <${isFloat ? 'FloatReg' : 'IntReg'} Name="Chunk${name}Reg">
    <Address>0x0</Address>
    <Length>${CHUNK_DATA_LENGTH}</Length>
    <AccessMode>RO</AccessMode>
    <pPort>Chunk${name}Port</pPort>
    <Cachable>NoCache</Cachable>${isFloat ? '' : '\n    <Sign>Unsigned</Sign>'}
    <Endianess>BigEndian</Endianess>
  </${isFloat ? 'FloatReg' : 'IntReg'}>
  <${isFloat ? 'Float' : 'Integer'} Name="Chunk${name}">
    <Description>${name} of the frame the chunk data came with.</Description>
    <pValue>Chunk${name}Reg</pValue>${name === 'ExposureTime' ? '\n    <Unit>us</Unit>' : name === 'Gain' ? '\n    <Unit>dB</Unit>' : ''}
  </${isFloat ? 'Float' : 'Integer'}>
`);
  }

  // User sets and reset.
  parts.push(category('UserSetControl', ['UserSetSelector', 'UserSetLoad', 'UserSetSave']));
  parts.push(
    enumeration('UserSetSelector', 'UserSetSelectorReg', UserSetSelector, {
      description: 'Which user set UserSetLoad and UserSetSave use (Default: the factory settings, read-only).',
      selected: ['UserSetLoad', 'UserSetSave'],
    }),
  );
  parts.push(intReg('UserSetSelectorReg', F.UserSetSelector, 'RW'));
  parts.push(command('UserSetLoad', 'UserSetLoadReg', 1, 'Loads the selected user set into the features.'));
  parts.push(intReg('UserSetLoadReg', F.UserSetLoad, 'RW'));
  parts.push(command('UserSetSave', 'UserSetSaveReg', 1, 'Saves the features into the selected user set.'));
  parts.push(intReg('UserSetSaveReg', F.UserSetSave, 'RW'));
  parts.push(
    command('DeviceReset', 'DeviceResetReg', 1, 'Resets the device: control released, features back to Default.'),
  );
  parts.push(intReg('DeviceResetReg', F.DeviceReset, 'RW'));

  // Events.
  const frameEvents = Object.keys(EventSelector) as FrameEventName[];
  parts.push(
    category('EventControl', [
      'EventSelector',
      'EventNotification',
      ...frameEvents.flatMap((e) => [`Event${e}`, `Event${e}FrameID`, `Event${e}Timestamp`]),
      'TestEventGenerate',
    ]),
  );
  parts.push(
    enumeration('EventSelector', 'EventSelectorReg', EventSelector, {
      description: 'Which event EventNotification switches.',
      selected: ['EventNotification'],
    }),
  );
  parts.push(intReg('EventSelectorReg', F.EventSelector, 'RW'));
  parts.push(
    enumeration(
      'EventNotification',
      'EventNotificationReg',
      { Off: 0, On: 1 },
      { description: 'The selected event is sent on the message channel.' },
    ),
  );
  parts.push(
    intReg('EventNotificationReg', F.EventNotification, 'RW', { index: { node: 'EventSelector', offset: 4 } }),
  );
  // Each frame event: its id, and its data (block id, timestamp) read through a Port with its EventID.
  for (const e of frameEvents) {
    const id = FrameEventId[e];
    parts.push(`  <Integer Name="Event${e}">
    <Description>Event id of ${e} on the message channel.</Description>
    <ImposedAccessMode>RO</ImposedAccessMode>
    <Value>${id}</Value>
    <Representation>HexNumber</Representation>
  </Integer>
  <Port Name="Event${e}Port">
    <EventID>${id.toString(16).toUpperCase()}</EventID>
  </Port>
`);
    for (const [field, address] of [
      ['FrameID', 0],
      ['Timestamp', 8],
    ] as const) {
      parts.push(`  <IntReg Name="Event${e}${field}Reg">
    <Address>${hex(address)}</Address>
    <Length>8</Length>
    <AccessMode>RO</AccessMode>
    <pPort>Event${e}Port</pPort>
    <Cachable>NoCache</Cachable>
    <Sign>Unsigned</Sign>
    <Endianess>BigEndian</Endianess>
  </IntReg>
  <Integer Name="Event${e}${field}">
    <Description>${field} of the last ${e} event.</Description>
    <pValue>Event${e}${field}Reg</pValue>
  </Integer>
`);
    }
  }
  parts.push(
    command(
      'TestEventGenerate',
      'TestEventGenerateReg',
      1,
      `Sends event 0x${TEST_EVENT_ID.toString(16)} on the message channel.`,
    ),
  );
  parts.push(intReg('TestEventGenerateReg', F.TestEventGenerate, 'RW'));

  parts.push('  <Port Name="Device" NameSpace="Standard"/>\n</RegisterDescription>\n');
  return parts.join('\n');
}
