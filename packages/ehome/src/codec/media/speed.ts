/** EHome playback speed on the wire (PLAYBACK and PLAYBACKCONTROL `Speed`). Pure. */
import { ValueOutOfRangeError } from '@cam/net-utils/wire';

/** Speed factor -> the protocol's integer: n > 1 faster, n < -1 slower (1/n). */
export function speedToWire(speed: number): number {
  if (!(speed >= 1 / 16 && speed <= 16)) throw new ValueOutOfRangeError('speed', `${speed} not in 1/16..16`);
  return speed >= 1 ? Math.round(speed) : -Math.round(1 / speed);
}

/** The protocol's integer speed -> a factor. */
export function speedFromWire(n: number): number {
  return n >= 1 ? n : n <= -1 ? 1 / -n : 1;
}
