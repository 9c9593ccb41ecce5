import type { SignalEncoding } from '../codec/index.js';

/** What the platform knows about one registered (online) device. */
export interface DeviceSession {
  readonly deviceId: string;
  /** Source address and port of its signals (where requests to it go). */
  address: string;
  port: number;
  firmwareVersion: string;
  devType: number;
  netUnitType: string;
  localIp: string;
  localPort: number;
  manufacture: number;
  serialNumber: string | undefined;
  /** `<Version>` the device speaks ("2.0", "4.0"). */
  version: string;
  /** Encoding of its signals; requests to it use the same. */
  encoding: SignalEncoding;
  /** When it (re-)registered and when it was last heard from, as `Date.now()` values. */
  registeredAt: number;
  lastSeen: number;
}

/**
 * Where sessions live. Synchronous on purpose: the KEEPALIVE path must not wait. A database-backed registry
 * keeps its working set in memory and writes through in the background.
 */
export interface DeviceRegistry {
  get(deviceId: string): DeviceSession | undefined;
  set(session: DeviceSession): void;
  delete(deviceId: string): boolean;
  values(): IterableIterator<DeviceSession>;
  readonly size: number;
}

/** The default registry: a Map keyed by DeviceID. */
export class MemoryDeviceRegistry implements DeviceRegistry {
  private readonly map = new Map<string, DeviceSession>();

  get(deviceId: string): DeviceSession | undefined {
    return this.map.get(deviceId);
  }
  set(session: DeviceSession): void {
    this.map.set(session.deviceId, session);
  }
  delete(deviceId: string): boolean {
    return this.map.delete(deviceId);
  }
  values(): IterableIterator<DeviceSession> {
    return this.map.values();
  }
  get size(): number {
    return this.map.size;
  }
}
