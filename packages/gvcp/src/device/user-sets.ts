import { GvcpStatus } from '../codec/index.js';
import { GvcpDeviceStatusError } from './errors.js';
import type { RegisterSpace } from './registers.js';

/** UserSetSelector values (SFNC): the factory settings and two user sets. */
export const UserSetSelector = { Default: 0, UserSet1: 1, UserSet2: 2 } as const;
export type UserSetName = keyof typeof UserSetSelector;

/** Registers of the user set features. */
export interface UserSetRegisters {
  UserSetSelector: number;
  UserSetLoad: number;
  UserSetSave: number;
}

/**
 * SFNC UserSetControl over a list of feature registers: `Default` is what they held when the camera started (it
 * cannot be overwritten); UserSetSave stores them in the selected user set, UserSetLoad writes them back (refused
 * while `locked()` says the transport layer parameters are locked, as a camera refuses while streaming). The sets
 * live as long as the device (a simulated camera has no flash).
 */
export class UserSets {
  readonly #r: RegisterSpace;
  readonly #features: readonly number[];
  readonly #sets = new Map<number, number[]>();

  constructor(registers: RegisterSpace, a: UserSetRegisters, features: readonly number[], checkUnlocked: () => void) {
    this.#r = registers;
    this.#features = features;
    this.#sets.set(UserSetSelector.Default, this.#snapshot());
    const max = Object.keys(UserSetSelector).length - 1;
    registers.define({
      address: a.UserSetSelector,
      name: 'UserSetSelector',
      write: (v) => {
        if (v > max)
          throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `UserSetSelector ${v} not in 0..${max}`);
        return undefined;
      },
    });
    registers.define({
      address: a.UserSetLoad,
      name: 'UserSetLoad',
      write: (v) => {
        if (v !== 0) {
          checkUnlocked();
          this.load(registers.get(a.UserSetSelector));
        }
        return 0;
      },
    });
    registers.define({
      address: a.UserSetSave,
      name: 'UserSetSave',
      write: (v) => {
        if (v !== 0) this.save(registers.get(a.UserSetSelector));
        return 0;
      },
    });
  }

  /** Writes user set `n` (0 = Default) into the feature registers. */
  load(n: number): void {
    const values = this.#sets.get(n);
    if (values === undefined)
      throw new GvcpDeviceStatusError(GvcpStatus.INVALID_PARAMETER, `user set ${n} was never saved`);
    this.#features.forEach((address, i) => {
      this.#r.set(address, values[i]!);
    });
  }

  /** Stores the feature registers in user set `n` (1 or 2; the Default set is read-only). */
  save(n: number): void {
    if (n === UserSetSelector.Default)
      throw new GvcpDeviceStatusError(GvcpStatus.ACCESS_DENIED, 'the Default user set cannot be overwritten');
    this.#sets.set(n, this.#snapshot());
  }

  #snapshot(): number[] {
    return this.#features.map((address) => this.#r.get(address));
  }
}
