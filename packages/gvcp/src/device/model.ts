/**
 * The register model of a simulated GigE Vision camera: what the camera *is*, independent of how GVCP reaches it.
 * It holds the bootstrap register table (identity, network configuration, channel registers, capabilities), the
 * GenICam file and its features (image format, acquisition and trigger, chunks, events, user sets), and the
 * acquisition state a stream sender reads. This is the role of Aravis's arvfakecamera.c; the GVCP server that
 * answers datagrams, keeps privilege and heartbeat, pending acks, actions and the message channel is device.ts
 * (arvgvfakecamera.c), which composes this model.
 *
 * Register writes that concern the server (CCP, heartbeat settings, DeviceReset, events to send) go through
 * {@link DeviceModelHooks}; the model never imports the server.
 *
 * Above 500 lines on purpose: the bootstrap table and the feature definitions are one long list each, read top to
 * bottom against the GigE Vision specification's register map; cutting them apart would scatter that map.
 */

import {
  ipv4ToU32,
  isIpv4,
  isLoopback,
  listIpv4Interfaces,
  macToHighLow,
  u32ToIpv4,
  ValueOutOfRangeError,
} from '@cam/net-utils';
import {
  actionGroupRegister,
  BootstrapRegister as B,
  DeviceModeBits,
  GvcpCapability,
  GvcpConfigurationBits,
  GvcpStatus,
  GvspConfigurationBits,
  IpConfigBits,
  StreamChannelRegister as SC,
  STREAM_CHANNEL_STRIDE,
} from '../codec/index.js';
import { pixelFormatBits, TestPattern } from '../codec/pixel-format.js';
import { requireFflate } from '../fflate.js';
import {
  AcquisitionControl,
  type AcquisitionStopReason,
  type TriggerActivationName,
  type TriggerSourceName,
} from './acquisition.js';
import { GvcpDeviceStatusError } from './errors.js';
import { EventControl, type FrameEventName } from './event-control.js';
import {
  buildGenicamXml,
  CHUNK_DATA_LENGTH,
  type ChunkName,
  ChunkSelector,
  FeatureRegister as F,
  SimulatedPixelFormat,
  TEST_EVENT_ID,
} from './genicam.js';
import { derivedMac, derivedSerialNumber } from './identity.js';
import type { ControlChannel } from './privilege.js';
import { type AccessContext, RegisterSpace } from './registers.js';
import type { DeviceEvent, GvcpDeviceEvents, GvcpDeviceOptions, IpConfig } from './types.js';
import { UserSets } from './user-sets.js';

/** Where the GenICam file lives in device memory (read with READMEM through the first URL register). */
export const GENICAM_FILE_ADDRESS = 0x0010_0000;
/** Scheduled action commands the device can hold (its bootstrap register says so). */
export const SCHEDULED_ACTION_QUEUE = 16;

/** What a register write asks of the GVCP server. */
export interface DeviceModelHooks {
  /** Tell the device's listeners (acquisition start/stop, triggers, fire-test-packet). */
  emit<K extends keyof GvcpDeviceEvents>(event: K, ...args: GvcpDeviceEvents[K]): void;
  /** Send an event on the message channel (event notification, TestEventGenerate). */
  sendEvent(event: DeviceEvent): void;
  /** The heartbeat timeout or the GVCP configuration changed: re-arm the heartbeat. */
  heartbeatSettingsChanged(): void;
  /** A CCP write from `from`: apply it and return the register's new value (throw GvcpDeviceStatusError to refuse). */
  writeCcp(value: number, from: AccessContext): number;
  /** DeviceReset was written (called after the ack has gone out). */
  deviceReset(): void;
}

export class DeviceModel {
  /** The address space; define registers here (`device.registers.define({...})`). */
  readonly registers = new RegisterSpace();
  /** The GenICam XML this device serves. */
  readonly genicamXml: string;
  /** The IP configuration at start-up (FORCEIP 0.0.0.0 returns to it). */
  readonly initialIp: IpConfig;
  readonly streamChannels: number;
  readonly actionSignals: number;
  readonly #options: GvcpDeviceOptions;
  readonly #port: number;
  readonly #minHeartbeat: number;
  readonly #control: ControlChannel;
  readonly #hooks: DeviceModelHooks;
  /** Acquisition and trigger state (defined in the constructor, after the bootstrap registers). */
  readonly #acquisition: AcquisitionControl;
  readonly #events: EventControl;
  #userSets: UserSets | undefined;
  #timestampBase = process.hrtime.bigint();

  /**
   * `bindAddress` and `port` are where the server listens (the default IP configuration and serial number follow
   * them); `control` is the server's privilege state, read by the CCP and primary-application registers.
   */
  constructor(
    options: GvcpDeviceOptions,
    where: { bindAddress: string; port: number },
    control: ControlChannel,
    hooks: DeviceModelHooks,
  ) {
    this.#options = options;
    this.#port = where.port;
    this.#control = control;
    this.#hooks = hooks;
    const bindAddress = where.bindAddress;
    // Bound to every interface, the device says it is on the first non-loopback one (as a camera on that network).
    const iface =
      bindAddress === '0.0.0.0'
        ? listIpv4Interfaces({ includeInternal: false })[0]
        : listIpv4Interfaces().find((i) => i.address === bindAddress);
    const ip = options.ip ?? (bindAddress === '0.0.0.0' ? (iface?.address ?? '127.0.0.1') : bindAddress);
    const ifaceMask = iface && iface.address === ip ? iface.netmask : undefined;
    this.initialIp = {
      ip,
      subnetMask: options.subnetMask ?? ifaceMask ?? (isLoopback(ip) ? '255.0.0.0' : '255.255.255.0'),
      gateway: options.gateway ?? '0.0.0.0',
    };
    for (const [k, v] of Object.entries(this.initialIp)) {
      if (!isIpv4(v)) throw new ValueOutOfRangeError(k, `"${v}" is not an IPv4 address`);
    }
    this.streamChannels = intOption(options.streamChannels, 1, 0, 512, 'streamChannels');
    this.actionSignals = intOption(options.actionSignals, 2, 0, 128, 'actionSignals');
    this.#minHeartbeat = intOption(options.minHeartbeatTimeoutMs, 500, 1, 600_000, 'minHeartbeatTimeoutMs');
    const sensorWidth = intOption(options.sensorWidth, 1024, 1, 65_535, 'sensorWidth');
    const sensorHeight = intOption(options.sensorHeight, 768, 1, 65_535, 'sensorHeight');
    this.genicamXml =
      options.genicamXml ??
      buildGenicamXml({
        vendorName: options.manufacturerName ?? '@cam',
        modelName: options.modelName ?? 'GvcpDevice',
        actionSignals: this.actionSignals,
        sensorWidth,
        sensorHeight,
      });
    this.#defineBootstrap();
    this.#acquisition = new AcquisitionControl(this.registers, F, {
      started: (mode, from) => hooks.emit('acquisitionStart', { mode, from }),
      stopped: (reason, from) => hooks.emit('acquisitionStop', { reason, from }),
      triggered: (trigger) => hooks.emit('frameTrigger', trigger),
      timestamp: () => this.timestamp(),
      checkUnlocked: () => {
        if (this.registers.get(F.TLParamsLocked) !== 0)
          throw new GvcpDeviceStatusError(GvcpStatus.WRITE_PROTECT, 'locked while TLParamsLocked is 1');
      },
    });
    this.#events = new EventControl(this.registers, F, (e) => {
      hooks.sendEvent({
        eventId: e.eventId,
        streamChannel: 0,
        blockId: e.blockId,
        timestamp: e.timestamp,
        data: e.data,
      });
    });
    this.#defineFeatures(sensorWidth, sensorHeight);
    this.#defineUserSets();
  }

  /** Bound to any free port: the default serial number and MAC follow the port it got (see derivedSerialNumber). */
  deriveIdentity(port: number): void {
    const o = this.#options;
    if (o.serialNumber !== undefined) return;
    const serial = derivedSerialNumber(this.initialIp.ip, port);
    this.registers.setString(B.SERIAL_NUMBER, 16, serial);
    if (o.mac !== undefined) return;
    const mac = macToHighLow(derivedMac(serial));
    this.registers.set(B.DEVICE_MAC_ADDRESS_HIGH, mac.high);
    this.registers.set(B.DEVICE_MAC_ADDRESS_LOW, mac.low);
  }

  /** The device MAC address. */
  get mac(): string {
    const hi = this.registers.get(B.DEVICE_MAC_ADDRESS_HIGH);
    const lo = this.registers.get(B.DEVICE_MAC_ADDRESS_LOW);
    const bytes = [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
    return bytes.map((x) => (x & 0xff).toString(16).padStart(2, '0')).join(':');
  }

  get serialNumber(): string {
    return this.registers.getString(B.SERIAL_NUMBER, 16);
  }

  /** Current IP configuration (as FORCEIP left it). */
  get ipConfig(): IpConfig {
    return {
      ip: u32ToIpv4(this.registers.get(B.CURRENT_IP_ADDRESS)),
      subnetMask: u32ToIpv4(this.registers.get(B.CURRENT_SUBNET_MASK)),
      gateway: u32ToIpv4(this.registers.get(B.CURRENT_DEFAULT_GATEWAY)),
    };
  }

  /** True between AcquisitionStart and AcquisitionStop (or loss of control). */
  get acquiring(): boolean {
    return this.#acquisition.acquiring;
  }

  /**
   * The sensor side (a stream sender) finished a frame: SingleFrame acquisitions end after one, MultiFrame after
   * AcquisitionFrameCount (AcquisitionStatus goes to 0 and 'acquisitionStop' says 'complete'). Returns true while the
   * acquisition goes on.
   */
  frameDone(): boolean {
    return this.#acquisition.frameDone();
  }

  /**
   * The sensor side reports a frame event (FrameStart when a frame begins, ExposureEnd when its exposure ends): sent as
   * EVENTDATA on the message channel (event id, block id, timestamp; data: block id and timestamp) when
   * EventNotification is On for it. Returns whether it was sent.
   */
  frameEvent(name: FrameEventName, e: { frameId: bigint; timestamp: bigint }): boolean {
    return this.#events.notify(name, e.frameId, e.timestamp);
  }

  /** Drives input line `line` (Line0): an edge that matches TriggerActivation is a Line0 trigger. */
  setLine(line: number, high: boolean): void {
    this.#acquisition.setLine(line, high);
  }

  /** Trigger counters. */
  get triggerStats(): { triggersAccepted: number; triggersIgnored: number; framesAcquired: number } {
    return { ...this.#acquisition.stats };
  }

  /** The image the current feature values describe (for a stream sender). */
  imageFormat(): {
    width: number;
    height: number;
    offsetX: number;
    offsetY: number;
    pixelFormat: number;
    payloadSize: number;
    sensorWidth: number;
    sensorHeight: number;
  } {
    const width = this.registers.get(F.Width);
    const height = this.registers.get(F.Height);
    const pixelFormat = this.registers.get(F.PixelFormat);
    return {
      width,
      height,
      sensorWidth: this.registers.get(F.SensorWidth),
      sensorHeight: this.registers.get(F.SensorHeight),
      offsetX: this.registers.get(F.OffsetX),
      offsetY: this.registers.get(F.OffsetY),
      pixelFormat,
      // with chunk data: the image chunk's tag, then each enabled chunk and its tag
      payloadSize:
        Math.ceil((width * height * pixelFormatBits(pixelFormat)) / 8) +
        (this.chunkSettings().active ? 8 + this.chunkSettings().enabled.length * (CHUNK_DATA_LENGTH + 8) : 0),
    };
  }

  /** ChunkModeActive and the chunks ChunkEnable switched on (for a stream sender). */
  chunkSettings(): { active: boolean; enabled: ChunkName[] } {
    const names = Object.keys(ChunkSelector) as ChunkName[];
    return {
      active: this.registers.get(F.ChunkModeActive) === 1,
      enabled: names.filter((n) => this.registers.get(F.ChunkEnable + 4 * ChunkSelector[n]) === 1),
    };
  }

  /**
   * The acquisition features (for a stream sender): mode, frames of a MultiFrame acquisition, frame rate (Hz),
   * exposure (us), gain (dB), test pattern, and the FrameStart trigger (on: frames start only on 'frameTrigger').
   */
  acquisitionSettings(): {
    mode: number;
    frameCount: number;
    frameRate: number;
    exposureTime: number;
    gain: number;
    blackLevel: number;
    reverseX: boolean;
    reverseY: boolean;
    testPattern: number;
    triggerMode: boolean;
    triggerSource: TriggerSourceName;
    triggerActivation: TriggerActivationName;
  } {
    return {
      ...this.#acquisition.settings(),
      frameRate: bitsFloat(this.registers.get(F.AcquisitionFrameRate)),
      exposureTime: bitsFloat(this.registers.get(F.ExposureTime)),
      gain: bitsFloat(this.registers.get(F.Gain)),
      blackLevel: bitsFloat(this.registers.get(F.BlackLevel)),
      reverseX: this.registers.get(F.ReverseX) === 1,
      reverseY: this.registers.get(F.ReverseY) === 1,
      testPattern: this.registers.get(F.TestPattern),
    };
  }

  /** True when `address` may ask stream channel `n` for resends: its host (SCDA) or the control holder. */
  mayRequestResend(n: number, address: string): boolean {
    if (this.#control.primary?.address === address) return true;
    if (!Number.isInteger(n) || n < 0 || n >= this.streamChannels) return false;
    const scda = this.registers.get(B.STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n + SC.SCDA);
    return scda !== 0 && u32ToIpv4(scda) === address;
  }

  /** Stream channel `n`'s registers, decoded (for a stream sender). */
  streamChannel(n = 0): {
    hostPort: number;
    hostAddress: string;
    packetSize: number;
    packetDelay: number;
    doNotFragment: boolean;
    bigEndian: boolean;
    sourcePort: number;
    configuration: number;
    extendedIds: boolean;
  } {
    if (!Number.isInteger(n) || n < 0 || n >= this.streamChannels) {
      throw new ValueOutOfRangeError('stream channel', `${n} is not in 0..${this.streamChannels - 1}`);
    }
    const base = B.STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n;
    const scps = this.registers.get(base + SC.SCPS);
    return {
      hostPort: this.registers.get(base + SC.SCP) & 0xffff,
      hostAddress: u32ToIpv4(this.registers.get(base + SC.SCDA)),
      packetSize: scps & 0xffff,
      doNotFragment: (scps & 0x4000_0000) !== 0,
      bigEndian: (scps & 0x2000_0000) !== 0,
      packetDelay: this.registers.get(base + SC.SCPD),
      sourcePort: this.registers.get(base + SC.SCSP) & 0xffff,
      configuration: this.registers.get(base + SC.SCCFG),
      extendedIds: (this.registers.get(B.GVSP_CONFIGURATION) & GvspConfigurationBits.BLOCK_ID_64BIT_ENABLE) !== 0,
    };
  }

  /** Device timestamp (ticks of 1 ns since start or the last reset). */
  timestamp(): bigint {
    return process.hrtime.bigint() - this.#timestampBase;
  }

  /** Stops the acquisition (control lost, device closed or reset). */
  stopAcquisition(reason: AcquisitionStopReason): void {
    this.#acquisition.stop(reason);
  }

  /**
   * The primary application is gone: close the message and stream channels it opened, unlock the transport
   * parameters and stop acquiring.
   */
  closeChannels(): void {
    this.registers.set(B.MCP, 0);
    this.registers.set(B.MCDA, 0);
    for (let n = 0; n < this.streamChannels; n++) {
      const base = B.STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n;
      this.registers.set(base + SC.SCP, 0);
      this.registers.set(base + SC.SCDA, 0);
    }
    this.registers.set(F.TLParamsLocked, 0);
    this.#acquisition.stop('control-lost');
  }

  /** The register side of DeviceReset: features back to the Default user set, timestamp back to 0. */
  resetFeatures(): void {
    this.registers.set(F.TLParamsLocked, 0);
    this.#userSets?.load(0);
    this.#timestampBase = process.hrtime.bigint();
  }

  /** Stores a new current IP configuration (FORCEIP). */
  setIpConfig(config: IpConfig): void {
    this.registers.set(B.CURRENT_IP_ADDRESS, ipv4ToU32(config.ip));
    this.registers.set(B.CURRENT_SUBNET_MASK, ipv4ToU32(config.subnetMask));
    this.registers.set(B.CURRENT_DEFAULT_GATEWAY, ipv4ToU32(config.gateway));
  }

  // -------------------------------------------------------------------------------------------------------------
  // User sets and DeviceReset

  /** The features a user set holds: the camera settings, not the network or control state. */
  #defineUserSets(): void {
    const persisted = [
      F.Width,
      F.Height,
      F.OffsetX,
      F.OffsetY,
      F.PixelFormat,
      F.AcquisitionMode,
      F.AcquisitionFrameCount,
      F.AcquisitionFrameRate,
      F.ExposureTime,
      F.Gain,
      F.BlackLevel,
      F.ReverseX,
      F.ReverseY,
      F.TestPattern,
      F.TriggerSelector,
      F.TriggerMode,
      F.TriggerSource,
      F.TriggerActivation,
      F.ChunkModeActive,
      F.ChunkSelector,
      ...Object.values(ChunkSelector).map((i) => F.ChunkEnable + 4 * i),
      F.EventSelector,
      ...[0, 1].map((i) => F.EventNotification + 4 * i),
    ];
    this.#userSets = new UserSets(this.registers, F, persisted, () => {
      if (this.registers.get(F.TLParamsLocked) !== 0)
        throw new GvcpDeviceStatusError(GvcpStatus.WRITE_PROTECT, 'locked while TLParamsLocked is 1');
    });
    this.registers.define({
      address: F.DeviceReset,
      name: 'DeviceReset',
      write: (v) => {
        // after the ack has gone out, as a camera reboots after acknowledging the command
        if (v !== 0) setImmediate(() => this.#hooks.deviceReset());
        return 0;
      },
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Register map

  /** Local read of bytes that may span several registers and blocks (no handlers). */
  localBytes(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let a = address; a < address + length; a += 4) {
      const info = this.registers.lookup(a);
      if (!info) continue;
      out.set(this.registers.getBytes(a, 4), a - address);
    }
    return out;
  }

  #defineBootstrap(): void {
    const o = this.#options;
    const r = this.registers;
    const ro = (address: number, initial: number, name: string): void => {
      r.define({ address, initial, name, access: 'RO' });
    };
    const rw = (
      address: number,
      initial: number,
      name: string,
      write?: (v: number, ctx: AccessContext) => number | undefined,
    ): void => {
      r.define(write ? { address, initial, name, access: 'RW', write } : { address, initial, name, access: 'RW' });
    };
    const text = (address: number, size: number, value: string, name: string, access: 'RO' | 'RW' = 'RO'): void => {
      r.defineBlock({ address, length: size, name, access });
      r.setString(address, size, value);
    };
    const reserved = (address: number, length: number): void => {
      r.defineBlock({ address, length, name: `reserved 0x${address.toString(16)}`, access: 'RO' });
    };

    ro(B.VERSION, (2 << 16) | 0, 'Version');
    // Big-endian registers, transmitter class, UTF-8 strings.
    ro(B.DEVICE_MODE, (DeviceModeBits.BIG_ENDIAN | 1) >>> 0, 'Device Mode');
    const serial = o.serialNumber ?? derivedSerialNumber(this.initialIp.ip, this.#port);
    const mac = macToHighLow(o.mac ?? derivedMac(serial));
    ro(B.DEVICE_MAC_ADDRESS_HIGH, mac.high, 'Device MAC Address High');
    ro(B.DEVICE_MAC_ADDRESS_LOW, mac.low, 'Device MAC Address Low');
    const supported = IpConfigBits.PERSISTENT | IpConfigBits.DHCP | IpConfigBits.LLA;
    ro(B.SUPPORTED_IP_CONFIGURATION, supported, 'Supported IP Configuration');
    // LLA is always on; only the supported bits can be changed.
    rw(
      B.CURRENT_IP_CONFIGURATION,
      IpConfigBits.DHCP | IpConfigBits.LLA,
      'Current IP Configuration',
      (v) => ((v & supported) | IpConfigBits.LLA) >>> 0,
    );
    reserved(0x18, 12);
    ro(B.CURRENT_IP_ADDRESS, ipv4ToU32(this.initialIp.ip), 'Current IP Address');
    reserved(0x28, 12);
    ro(B.CURRENT_SUBNET_MASK, ipv4ToU32(this.initialIp.subnetMask), 'Current Subnet Mask');
    reserved(0x38, 12);
    ro(B.CURRENT_DEFAULT_GATEWAY, ipv4ToU32(this.initialIp.gateway), 'Current Default Gateway');
    text(B.MANUFACTURER_NAME, 32, o.manufacturerName ?? '@cam', 'Manufacturer Name');
    text(B.MODEL_NAME, 32, o.modelName ?? 'GvcpDevice', 'Model Name');
    text(B.DEVICE_VERSION, 32, o.deviceVersion ?? '1.0.0', 'Device Version');
    text(B.MANUFACTURER_INFO, 48, o.manufacturerInfo ?? 'Simulated GigE Vision camera', 'Manufacturer Info');
    text(B.SERIAL_NUMBER, 16, serial, 'Serial Number');
    text(B.USER_DEFINED_NAME, 16, o.userDefinedName ?? '', 'User-defined Name', 'RW');

    // GenICam file and its URL.
    const zip = o.genicamZip === true;
    const xmlBytes = new TextEncoder().encode(this.genicamXml);
    const fileName = zip ? 'cam-gvcp-device.zip' : 'cam-gvcp-device.xml';
    const file = zip ? requireFflate('genicamZip: true').zipSync({ 'cam-gvcp-device.xml': xmlBytes }) : xmlBytes;
    const fileBlock = Math.max(4, Math.ceil(file.byteLength / 4) * 4);
    r.defineBlock({
      address: GENICAM_FILE_ADDRESS,
      length: fileBlock,
      initial: file,
      name: 'GenICam file',
      access: 'RO',
    });
    const url = `Local:${fileName};${GENICAM_FILE_ADDRESS.toString(16)};${file.byteLength.toString(16)}?SchemaVersion=1.1.0`;
    text(B.FIRST_URL, 512, url, 'First URL');
    text(B.SECOND_URL, 512, '', 'Second URL');

    ro(B.NUMBER_OF_NETWORK_INTERFACES, 1, 'Number of Network Interfaces');
    rw(B.PERSISTENT_IP_ADDRESS, ipv4ToU32(this.initialIp.ip), 'Persistent IP Address');
    rw(B.PERSISTENT_SUBNET_MASK, ipv4ToU32(this.initialIp.subnetMask), 'Persistent Subnet Mask');
    rw(B.PERSISTENT_DEFAULT_GATEWAY, ipv4ToU32(this.initialIp.gateway), 'Persistent Default Gateway');
    ro(B.LINK_SPEED, 1000, 'Link Speed');
    ro(B.NUMBER_OF_MESSAGE_CHANNELS, 1, 'Number of Message Channels');
    ro(B.NUMBER_OF_STREAM_CHANNELS, this.streamChannels, 'Number of Stream Channels');
    ro(B.NUMBER_OF_ACTION_SIGNALS, this.actionSignals, 'Number of Action Signals');
    r.define({ address: B.ACTION_DEVICE_KEY, name: 'Action Device Key', access: 'WO' });
    ro(B.NUMBER_OF_ACTIVE_LINKS, 1, 'Number of Active Links');
    // SCSPx supported (MSB).
    ro(B.GVSP_CAPABILITY, 0x8000_0000, 'GVSP Capability');
    // MCSP supported (MSB).
    ro(B.MESSAGE_CHANNEL_CAPABILITY, 0x8000_0000, 'Message Channel Capability');
    const C = GvcpCapability;
    const capability =
      C.CONCATENATION |
      C.WRITEMEM |
      C.PACKETRESEND |
      C.EVENT |
      C.EVENTDATA |
      C.PENDING_ACK |
      C.ACTION |
      C.PRIMARY_APPLICATION_SWITCHOVER |
      C.EXTENDED_STATUS_CODES |
      C.DISCOVERY_ACK_DELAY_WRITABLE |
      C.DISCOVERY_ACK_DELAY |
      C.CCP_APPLICATION_SOCKET |
      C.LINK_SPEED |
      C.HEARTBEAT_DISABLE |
      C.SERIAL_NUMBER |
      C.USER_DEFINED_NAME;
    ro(B.GVCP_CAPABILITY, capability >>> 0, 'GVCP Capability');
    const minHb = this.#minHeartbeat;
    rw(
      B.HEARTBEAT_TIMEOUT,
      Math.max(minHb, intOption(o.heartbeatTimeoutMs, 3000, 1, 3_600_000, 'heartbeatTimeoutMs')),
      'Heartbeat Timeout',
      (v) => Math.min(Math.max(v, minHb), 3_600_000),
    );
    // Re-arm once the new value is stored (a write listener runs after the store), so a lowered timeout counts now.
    r.onWrite(B.HEARTBEAT_TIMEOUT, () => this.#hooks.heartbeatSettingsChanged());
    ro(B.TIMESTAMP_TICK_FREQUENCY_HIGH, 0, 'Timestamp Tick Frequency High');
    ro(B.TIMESTAMP_TICK_FREQUENCY_LOW, 1_000_000_000, 'Timestamp Tick Frequency Low');
    r.define({
      address: B.TIMESTAMP_CONTROL,
      name: 'Timestamp Control',
      access: 'WO',
      write: (v) => {
        if (v & 0x1) this.#timestampBase = process.hrtime.bigint();
        if (v & 0x2) {
          const ts = this.timestamp();
          r.set(B.TIMESTAMP_VALUE_HIGH, Number(ts >> 32n));
          r.set(B.TIMESTAMP_VALUE_LOW, Number(ts & 0xffff_ffffn));
        }
        return 0;
      },
    });
    ro(B.TIMESTAMP_VALUE_HIGH, 0, 'Timestamp Value High');
    ro(B.TIMESTAMP_VALUE_LOW, 0, 'Timestamp Value Low');
    rw(B.DISCOVERY_ACK_DELAY, 0, 'Discovery ACK Delay', (v) => Math.min(v, 1000));
    const gvcpConfigMask =
      GvcpConfigurationBits.HEARTBEAT_DISABLE |
      GvcpConfigurationBits.PENDING_ACK_ENABLE |
      GvcpConfigurationBits.EXTENDED_STATUS_CODES;
    rw(B.GVCP_CONFIGURATION, 0, 'GVCP Configuration', (v) => (v & gvcpConfigMask) >>> 0);
    r.onWrite(B.GVCP_CONFIGURATION, () => this.#hooks.heartbeatSettingsChanged());
    ro(B.PENDING_TIMEOUT, intOption(o.pendingTimeoutMs, 100, 1, 0xffff_ffff, 'pendingTimeoutMs'), 'Pending Timeout');
    r.define({
      address: B.CONTROL_SWITCHOVER_KEY,
      name: 'Control Switchover Key',
      access: 'WO',
      write: (v) => {
        this.#control.switchoverKey = v & 0xffff;
        return 0;
      },
    });
    rw(B.GVSP_CONFIGURATION, 0, 'GVSP Configuration', (v) => (v & GvspConfigurationBits.BLOCK_ID_64BIT_ENABLE) >>> 0);

    // Control channel privilege.
    r.define({
      address: B.CCP,
      name: 'CCP',
      access: 'RW',
      read: (ctx) => this.#control.ccpFor(ctx),
      // privilege is the server's business (heartbeat, channels closed on release): it answers the write
      write: (v, ctx) => this.#hooks.writeCcp(v, ctx),
    });
    r.define({
      address: B.PRIMARY_APPLICATION_PORT,
      name: 'Primary Application Port',
      access: 'RO',
      read: () => this.#control.primary?.port ?? 0,
    });
    r.define({
      address: B.PRIMARY_APPLICATION_IP_ADDRESS,
      name: 'Primary Application IP Address',
      access: 'RO',
      read: () => {
        const p = this.#control.primary;
        return p ? ipv4ToU32(p.address) : 0;
      },
    });

    // Message channel.
    rw(B.MCP, 0, 'MCP', (v) => (v & 0xffff) >>> 0);
    rw(B.MCDA, 0, 'MCDA');
    rw(B.MCTT, 300, 'MCTT', (v) => Math.min(v, 60_000));
    rw(B.MCRC, 2, 'MCRC', (v) => Math.min(v, 100));
    ro(B.MCSP, 0, 'MCSP');

    // Stream channels: stored for a stream sender to use (see streamChannel()).
    for (let n = 0; n < this.streamChannels; n++) {
      const base = B.STREAM_CHANNEL_BASE + STREAM_CHANNEL_STRIDE * n;
      rw(base + SC.SCP, 0, `SCP${n}`, (v) => (v & 0xffff) >>> 0);
      rw(base + SC.SCPS, 1500, `SCPS${n}`, (v, ctx) => {
        if (v & 0x8000_0000) {
          // Fire test packet is a self-clearing command bit.
          this.#hooks.emit('fireTestPacket', { streamChannel: n, from: ctx });
        }
        const size = v & 0xffff;
        if (size !== 0 && (size < 576 || size > 9000))
          throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `packet size ${size} not in 576..9000`);
        const keep = size === 0 ? r.get(base + SC.SCPS) & 0xffff : size;
        return ((v & 0x6000_0000) | keep) >>> 0;
      });
      rw(base + SC.SCPD, 0, `SCPD${n}`);
      rw(base + SC.SCDA, 0, `SCDA${n}`);
      ro(base + SC.SCSP, 0, `SCSP${n}`);
      ro(base + SC.SCC, 0, `SCC${n}`);
      rw(base + SC.SCCFG, 0, `SCCFG${n}`);
    }

    // Action groups.
    for (let i = 0; i < this.actionSignals; i++) {
      rw(actionGroupRegister(i, 'key'), 0, `Action Group Key ${i}`);
      rw(actionGroupRegister(i, 'mask'), 0, `Action Group Mask ${i}`);
    }
    ro(B.SCHEDULED_ACTION_COMMAND_QUEUE_SIZE, SCHEDULED_ACTION_QUEUE, 'Scheduled Action Command Queue Size');
  }

  #defineFeatures(sensorWidth: number, sensorHeight: number): void {
    const o = this.#options;
    const r = this.registers;
    r.onWrite(F.TriggerSoftware, (v, ctx) => {
      if (v !== 0) this.#hooks.emit('triggerSoftware', ctx);
    });
    const locked = (): void => {
      if (r.get(F.TLParamsLocked) !== 0)
        throw new GvcpDeviceStatusError(GvcpStatus.WRITE_PROTECT, 'locked while TLParamsLocked is 1');
    };
    const range =
      (min: number, max: number, name: string, lock = true) =>
      (v: number) => {
        if (lock) locked();
        if (v < min || v > max)
          throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `${name} ${v} not in ${min}..${max}`);
        return undefined;
      };
    const floatFeature = (address: number, initial: number, min: number, max: number, name: string): void => {
      r.define({
        address,
        name,
        initial: floatBits(initial),
        write: (bits) => {
          const v = bitsFloat(bits);
          if (!Number.isFinite(v) || v < min || v > max)
            throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `${name} ${v} not in ${min}..${max}`);
          return undefined;
        },
      });
    };
    // The image is a region of the sensor: size + offset never exceed it (the other one bounds each write).
    const region =
      (other: number, sensor: number, min: number, name: string) =>
      (v: number): undefined => {
        locked();
        const max = sensor - r.get(other);
        if (v < min || v > max)
          throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `${name} ${v} not in ${min}..${max}`);
        return undefined;
      };
    const pf = SimulatedPixelFormat[o.pixelFormat ?? 'Mono8'];
    if (pf === undefined)
      throw new ValueOutOfRangeError('pixelFormat', `unknown pixel format ${String(o.pixelFormat)}`);
    const validPf = new Set<number>(Object.values(SimulatedPixelFormat));

    r.define({ address: F.SensorWidth, name: 'SensorWidth', access: 'RO', initial: sensorWidth });
    r.define({ address: F.SensorHeight, name: 'SensorHeight', access: 'RO', initial: sensorHeight });
    r.define({
      address: F.Width,
      name: 'Width',
      initial: intOption(o.width, Math.min(640, sensorWidth), 1, sensorWidth, 'width'),
      write: region(F.OffsetX, sensorWidth, 1, 'Width'),
    });
    r.define({
      address: F.Height,
      name: 'Height',
      initial: intOption(o.height, Math.min(480, sensorHeight), 1, sensorHeight, 'height'),
      write: region(F.OffsetY, sensorHeight, 1, 'Height'),
    });
    r.define({ address: F.OffsetX, name: 'OffsetX', write: region(F.Width, sensorWidth, 0, 'OffsetX') });
    r.define({ address: F.OffsetY, name: 'OffsetY', write: region(F.Height, sensorHeight, 0, 'OffsetY') });
    floatFeature(F.BlackLevel, 0, 0, 10, 'BlackLevel');
    r.define({ address: F.ReverseX, name: 'ReverseX', write: range(0, 1, 'ReverseX') });
    r.define({ address: F.ReverseY, name: 'ReverseY', write: range(0, 1, 'ReverseY') });
    r.define({ address: F.ChunkModeActive, name: 'ChunkModeActive', write: range(0, 1, 'ChunkModeActive') });
    const chunks = Object.keys(ChunkSelector).length;
    r.define({ address: F.ChunkSelector, name: 'ChunkSelector', write: range(0, chunks - 1, 'ChunkSelector', false) });
    for (let i = 0; i < chunks; i++)
      r.define({ address: F.ChunkEnable + 4 * i, name: `ChunkEnable${i}`, write: range(0, 1, 'ChunkEnable') });
    r.define({
      address: F.PixelFormat,
      name: 'PixelFormat',
      initial: pf,
      write: (v) => {
        locked();
        if (!validPf.has(v))
          throw new GvcpDeviceStatusError(
            GvcpStatus.INVALID_PARAMETER,
            `pixel format 0x${v.toString(16)} is not supported`,
          );
        return undefined;
      },
    });
    r.define({ address: F.PayloadSize, name: 'PayloadSize', access: 'RO', read: () => this.imageFormat().payloadSize });
    floatFeature(F.ExposureTime, 10_000, 10, 10_000_000, 'ExposureTime');
    floatFeature(F.Gain, 0, 0, 48, 'Gain');
    floatFeature(F.AcquisitionFrameRate, 10, 0.1, 1000, 'AcquisitionFrameRate');
    r.define({
      address: F.TestPattern,
      name: 'TestPattern',
      initial: TestPattern.Off, // the picture of the simulated scene, as a camera sends by default
      write: range(0, Object.keys(TestPattern).length - 1, 'TestPattern', false),
    });
    r.define({
      address: F.TLParamsLocked,
      name: 'TLParamsLocked',
      write: (v) => {
        if (v > 1) throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, 'TLParamsLocked is 0 or 1');
        return undefined;
      },
    });
    r.define({
      address: F.TestEventGenerate,
      name: 'TestEventGenerate',
      write: (v) => {
        if (v !== 0) this.#hooks.sendEvent({ eventId: TEST_EVENT_ID });
        return 0;
      },
    });
  }
}

function floatBits(v: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v);
  return dv.getUint32(0);
}

function bitsFloat(bits: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, bits);
  return dv.getFloat32(0);
}

/** An integer option in `min..max`, or `fallback` when not given. @internal */
export function intOption(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new ValueOutOfRangeError(name, `${v} is not an integer in ${min}..${max}`);
  return v;
}
