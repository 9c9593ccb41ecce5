import { CcpBits, GvcpStatus } from '../codec/index.js';

/** An application, identified as the spec requires by its IP address and UDP source port. */
export interface Application {
  address: string;
  port: number;
}

/** The privilege the primary application holds. */
export type PrivilegeLevel = 'exclusive' | 'control';

/** The primary application and what it holds. */
export interface PrimaryApplication extends Application {
  privilege: PrivilegeLevel;
  /** Control with switchover enabled: another application presenting the switchover key may take over. */
  switchoverEnabled: boolean;
  /** Clock time (ms) of its last command, for the heartbeat. */
  lastSeen: number;
}

/** Result of a CCP write: the status to answer and what changed. */
export interface CcpWriteResult {
  status: number;
  /** What happened to the primary application. */
  change: 'granted' | 'changed' | 'released' | 'taken-over' | 'none';
}

/**
 * The control channel privilege rules of GigE Vision (CCP register 0x0A00), with no I/O: exclusive access (nobody
 * else may even read), control access (others may read: monitors), control with switchover (another application
 * writing the switchover key takes control). Pure and clock-injected so the rules can be property-tested.
 */
export class ControlChannel {
  #primary: PrimaryApplication | undefined;
  /** The key the primary application set in the Control Switchover Key register (0x095C). */
  switchoverKey = 0;
  readonly #now: () => number;
  readonly #switchoverSupported: boolean;

  constructor(options: { now?: () => number; switchoverSupported?: boolean } = {}) {
    // Monotonic: a wall-clock jump must not drop (or keep) control.
    this.#now = options.now ?? (() => performance.now());
    this.#switchoverSupported = options.switchoverSupported ?? true;
  }

  /** The primary application, if any (a copy). */
  get primary(): PrimaryApplication | undefined {
    return this.#primary ? { ...this.#primary } : undefined;
  }

  /** The CCP register value as the primary application reads it (privilege bits; the key is never readable). */
  get ccp(): number {
    const p = this.#primary;
    if (!p) return 0;
    return (
      (p.privilege === 'exclusive' ? CcpBits.EXCLUSIVE_ACCESS : CcpBits.CONTROL_ACCESS) |
      (p.switchoverEnabled ? CcpBits.CONTROL_SWITCHOVER_ENABLE : 0)
    );
  }

  /**
   * The CCP value as `app` reads it: the primary application sees its own privilege bits, any other application 0
   * (it holds no privilege). This is what lets a primary application notice, with its heartbeat read of the CCP,
   * that another one took control by switchover; who holds control is in registers 0x0A04 / 0x0A14.
   */
  ccpFor(app: Application): number {
    return this.isPrimary(app) ? this.ccp : 0;
  }

  /** True when `app` is the primary application. */
  isPrimary(app: Application): boolean {
    const p = this.#primary;
    return p !== undefined && p.address === app.address && p.port === app.port;
  }

  /** Reads (READREG, READMEM) are open to all unless another application holds exclusive access. */
  canRead(app: Application): boolean {
    const p = this.#primary;
    return p?.privilege !== 'exclusive' || this.isPrimary(app);
  }

  /** Writes other than the CCP itself are for the primary application only. */
  canWrite(app: Application): boolean {
    return this.isPrimary(app);
  }

  /** Records a command from `app`: a command from the primary application is its heartbeat. */
  touch(app: Application): void {
    if (this.#primary && this.isPrimary(app)) this.#primary.lastSeen = this.#now();
  }

  /** Milliseconds since the primary application's last command, or undefined without one. */
  idleMs(): number | undefined {
    return this.#primary ? this.#now() - this.#primary.lastSeen : undefined;
  }

  /** Drops the primary application (heartbeat timeout, FORCEIP, close); true when there was one. */
  release(): boolean {
    const had = this.#primary !== undefined;
    this.#primary = undefined;
    this.switchoverKey = 0;
    return had;
  }

  /** Applies a CCP write from `app` and says what to answer. */
  writeCcp(app: Application, value: number): CcpWriteResult {
    const exclusive = (value & CcpBits.EXCLUSIVE_ACCESS) !== 0;
    const control = (value & CcpBits.CONTROL_ACCESS) !== 0;
    const switchover = (value & CcpBits.CONTROL_SWITCHOVER_ENABLE) !== 0;
    const key = value >>> CcpBits.SWITCHOVER_KEY_SHIFT;
    const wanted: PrivilegeLevel | undefined = exclusive ? 'exclusive' : control ? 'control' : undefined;
    if (switchover && (!this.#switchoverSupported || wanted !== 'control')) {
      // Switchover is only meaningful with control access, and only when the device supports it.
      return { status: GvcpStatus.INVALID_PARAMETER, change: 'none' };
    }
    const p = this.#primary;
    const now = this.#now();
    if (p && this.isPrimary(app)) {
      if (!wanted) {
        this.release();
        return { status: GvcpStatus.SUCCESS, change: 'released' };
      }
      p.privilege = wanted;
      p.switchoverEnabled = switchover;
      p.lastSeen = now;
      return { status: GvcpStatus.SUCCESS, change: 'changed' };
    }
    if (!p) {
      // Writing 0 without control is a no-op, not an error.
      if (!wanted) return { status: GvcpStatus.SUCCESS, change: 'none' };
      this.#primary = {
        address: app.address,
        port: app.port,
        privilege: wanted,
        switchoverEnabled: switchover,
        lastSeen: now,
      };
      return { status: GvcpStatus.SUCCESS, change: 'granted' };
    }
    // Someone else is primary: only a switchover with the right key can take control from it.
    if (
      wanted &&
      p.privilege === 'control' &&
      p.switchoverEnabled &&
      this.#switchoverSupported &&
      key === (this.switchoverKey & 0xffff)
    ) {
      this.#primary = {
        address: app.address,
        port: app.port,
        privilege: wanted,
        switchoverEnabled: switchover,
        lastSeen: now,
      };
      return { status: GvcpStatus.SUCCESS, change: 'taken-over' };
    }
    return { status: GvcpStatus.ACCESS_DENIED, change: 'none' };
  }
}
