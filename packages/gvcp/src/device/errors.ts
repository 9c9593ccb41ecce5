import { ProtocolError } from '@cam/net-utils';
import { GvcpStatus, statusName } from '../codec/constants.js';

/**
 * Thrown by a register handler (or by the device itself) to answer a command with a GVCP status instead of success:
 * `throw new DeviceStatusError(GvcpStatus.WRITE_PROTECT, 'Width is locked while streaming')`.
 */
export class DeviceStatusError extends ProtocolError {
  static override readonly errorName: string = 'DeviceStatusError';
  /** The GVCP status code the device answers with. */
  readonly status: number;

  constructor(status: number, detail?: string) {
    super(`${statusName(status)}${detail ? `: ${detail}` : ''}`, status);
    this.status = status;
  }
}

/** The status a thrown value turns into: its own for {@link DeviceStatusError}, `ERROR` for anything else. */
export function statusOf(error: unknown): number {
  return DeviceStatusError.isInstance(error) ? error.status : GvcpStatus.ERROR;
}
