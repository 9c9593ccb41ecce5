import { GvcpStatus } from '../codec/index.js';
import { GvcpDeviceStatusError } from './errors.js';
import type { AccessContext, RegisterSpace } from './registers.js';

/** AcquisitionMode enumeration values (SFNC). */
export const AcquisitionMode = { Continuous: 0, SingleFrame: 1, MultiFrame: 2 } as const;
export type AcquisitionModeName = keyof typeof AcquisitionMode;

/** TriggerSelector values: the simulated camera has one trigger, the start of each frame. */
export const TriggerSelector = { FrameStart: 0 } as const;
export type TriggerSelectorName = keyof typeof TriggerSelector;

/** TriggerSource values (SFNC names): the TriggerSoftware command, or an edge on input line 0. */
export const TriggerSource = { Software: 0, Line0: 1 } as const;
export type TriggerSourceName = keyof typeof TriggerSource;

/** TriggerActivation values (SFNC names): which edge of a line input is a trigger. */
export const TriggerActivation = { RisingEdge: 0, FallingEdge: 1, AnyEdge: 2 } as const;
export type TriggerActivationName = keyof typeof TriggerActivation;

/** Registers of the acquisition and trigger features (32-bit, big-endian). */
export interface AcquisitionRegisters {
  AcquisitionMode: number;
  AcquisitionStart: number;
  AcquisitionStop: number;
  AcquisitionStatus: number;
  AcquisitionFrameCount: number;
  TriggerSelector: number;
  TriggerMode: number;
  TriggerSource: number;
  TriggerActivation: number;
  TriggerSoftware: number;
}

/** A frame trigger the camera accepted: the sensor side starts one frame for it. */
export interface FrameTrigger {
  source: TriggerSourceName;
  /** Device timestamp of the trigger. */
  timestamp: bigint;
}

/** Why an acquisition ended. */
export type AcquisitionStopReason = 'command' | 'control-lost' | 'complete';

/** What the acquisition model tells its device. */
export interface AcquisitionHooks {
  started(mode: number, from: AccessContext | undefined): void;
  stopped(reason: AcquisitionStopReason, from: AccessContext | undefined): void;
  triggered(trigger: FrameTrigger): void;
  /** Device timestamp now. */
  timestamp(): bigint;
  /** Throws WRITE_PROTECT while the transport layer parameters are locked. */
  checkUnlocked(): void;
}

/** Counters of the trigger logic. */
export interface AcquisitionStats {
  /** Triggers that started a frame. */
  triggersAccepted: number;
  /** Triggers ignored: trigger mode off, another source selected, or no acquisition running. */
  triggersIgnored: number;
  /** Frames the sensor side reported done in the current or last acquisition. */
  framesAcquired: number;
}

/**
 * The camera's acquisition state machine (SFNC AcquisitionControl): AcquisitionStart/Stop, the acquisition mode
 * (Continuous; SingleFrame and MultiFrame end on their own after 1 or AcquisitionFrameCount frames) and the
 * FrameStart trigger (TriggerMode, TriggerSource Software or Line0, TriggerActivation edges). It owns its registers
 * in the device's {@link RegisterSpace}; the frames themselves come from whoever renders them (a stream sender),
 * which waits for {@link FrameTrigger}s while the trigger mode is on and reports each frame with {@link frameDone}.
 */
export class AcquisitionControl {
  readonly stats: AcquisitionStats = { triggersAccepted: 0, triggersIgnored: 0, framesAcquired: 0 };
  readonly #r: RegisterSpace;
  readonly #a: AcquisitionRegisters;
  readonly #hooks: AcquisitionHooks;
  #acquiring = false;
  readonly #lines: boolean[] = [false];

  constructor(registers: RegisterSpace, addresses: AcquisitionRegisters, hooks: AcquisitionHooks) {
    this.#r = registers;
    this.#a = addresses;
    this.#hooks = hooks;
    const r = registers;
    const a = addresses;
    const oneOf = (name: string, values: Record<string, number>, lock: boolean) => (v: number) => {
      if (lock) hooks.checkUnlocked();
      if (!Object.values(values).includes(v))
        throw new GvcpDeviceStatusError(
          GvcpStatus.INVALID_PARAMETER,
          `${name} ${v} is not one of ${Object.keys(values)}`,
        );
      return undefined;
    };
    r.define({
      address: a.AcquisitionMode,
      name: 'AcquisitionMode',
      initial: AcquisitionMode.Continuous,
      write: oneOf('AcquisitionMode', AcquisitionMode, true),
    });
    r.define({
      address: a.AcquisitionFrameCount,
      name: 'AcquisitionFrameCount',
      initial: 1,
      write: (v) => {
        hooks.checkUnlocked();
        if (v < 1 || v > 0xffff)
          throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `AcquisitionFrameCount ${v} not in 1..65535`);
        return undefined;
      },
    });
    r.define({
      address: a.AcquisitionStart,
      name: 'AcquisitionStart',
      write: (v, ctx) => {
        if (v !== 0) this.start(ctx);
        return 0; // A command register reads 0: done.
      },
    });
    r.define({
      address: a.AcquisitionStop,
      name: 'AcquisitionStop',
      write: (v, ctx) => {
        if (v !== 0) this.stop('command', ctx);
        return 0;
      },
    });
    r.define({ address: a.AcquisitionStatus, name: 'AcquisitionStatus', access: 'RO' });
    r.define({
      address: a.TriggerSelector,
      name: 'TriggerSelector',
      initial: TriggerSelector.FrameStart,
      write: oneOf('TriggerSelector', TriggerSelector, false),
    });
    r.define({ address: a.TriggerMode, name: 'TriggerMode', write: oneOf('TriggerMode', { Off: 0, On: 1 }, false) });
    r.define({
      address: a.TriggerSource,
      name: 'TriggerSource',
      initial: TriggerSource.Software,
      write: oneOf('TriggerSource', TriggerSource, false),
    });
    r.define({
      address: a.TriggerActivation,
      name: 'TriggerActivation',
      initial: TriggerActivation.RisingEdge,
      write: oneOf('TriggerActivation', TriggerActivation, false),
    });
    r.define({
      address: a.TriggerSoftware,
      name: 'TriggerSoftware',
      write: (v) => {
        if (v !== 0) this.trigger('Software');
        return 0;
      },
    });
  }

  /** True between AcquisitionStart and the end of the acquisition. */
  get acquiring(): boolean {
    return this.#acquiring;
  }

  /** Current settings, decoded. */
  settings(): {
    mode: number;
    frameCount: number;
    triggerMode: boolean;
    triggerSource: TriggerSourceName;
    triggerActivation: TriggerActivationName;
  } {
    const r = this.#r;
    const a = this.#a;
    return {
      mode: r.get(a.AcquisitionMode),
      frameCount: r.get(a.AcquisitionFrameCount),
      triggerMode: r.get(a.TriggerMode) === 1,
      triggerSource: nameOf(TriggerSource, r.get(a.TriggerSource)) ?? 'Software',
      triggerActivation: nameOf(TriggerActivation, r.get(a.TriggerActivation)) ?? 'RisingEdge',
    };
  }

  /** AcquisitionStart: a no-op while acquiring. */
  start(from?: AccessContext): void {
    if (this.#acquiring) return;
    this.#acquiring = true;
    this.stats.framesAcquired = 0;
    this.#r.set(this.#a.AcquisitionStatus, 1);
    this.#hooks.started(this.#r.get(this.#a.AcquisitionMode), from);
  }

  /** Ends the acquisition (AcquisitionStop, loss of control, or the last frame of SingleFrame / MultiFrame). */
  stop(reason: AcquisitionStopReason, from?: AccessContext): void {
    if (!this.#acquiring) return;
    this.#acquiring = false;
    this.#r.set(this.#a.AcquisitionStatus, 0);
    this.#hooks.stopped(reason, from);
  }

  /**
   * The sensor side finished a frame: SingleFrame ends after the first, MultiFrame after AcquisitionFrameCount.
   * Returns true while the acquisition goes on.
   */
  frameDone(): boolean {
    if (!this.#acquiring) return false;
    this.stats.framesAcquired++;
    const { mode, frameCount } = this.settings();
    const limit = mode === AcquisitionMode.SingleFrame ? 1 : mode === AcquisitionMode.MultiFrame ? frameCount : 0;
    if (limit > 0 && this.stats.framesAcquired >= limit) {
      this.stop('complete');
      return false;
    }
    return true;
  }

  /** A trigger signal from `source`: starts one frame when the FrameStart trigger is on and listens to it. */
  trigger(source: TriggerSourceName): boolean {
    const s = this.settings();
    if (!this.#acquiring || !s.triggerMode || s.triggerSource !== source) {
      this.stats.triggersIgnored++;
      return false;
    }
    this.stats.triggersAccepted++;
    this.#hooks.triggered({ source, timestamp: this.#hooks.timestamp() });
    return true;
  }

  /** Drives input line `line` (only Line0 exists); an edge matching TriggerActivation is a Line0 trigger. */
  setLine(line: number, high: boolean): void {
    if (line !== 0) throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `no input line ${line}`);
    const before = this.#lines[line]!;
    if (before === high) return;
    this.#lines[line] = high;
    const activation = this.settings().triggerActivation;
    const edge = high ? 'RisingEdge' : 'FallingEdge';
    if (activation === edge || activation === 'AnyEdge') this.trigger('Line0');
  }

  /** Level of input line `line`. */
  line(line: number): boolean {
    return this.#lines[line] ?? false;
  }
}

function nameOf<T extends Record<string, number>>(values: T, v: number): keyof T | undefined {
  return Object.keys(values).find((k) => values[k] === v) as keyof T | undefined;
}
