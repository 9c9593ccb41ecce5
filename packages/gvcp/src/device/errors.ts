import { ProtocolError } from '@cam/net-utils';
import { GvcpStatus, statusName } from '../codec/constants.js';

/**
 * Thrown by a register handler (or by the device itself) to answer a command with a GVCP status instead of success:
 * `throw new GvcpDeviceStatusError(GvcpStatus.WRITE_PROTECT, 'Width is locked while streaming')`.
 */
export class GvcpDeviceStatusError extends ProtocolError {
  static override readonly errorName: string = 'GvcpDeviceStatusError';
  /** The GVCP status code the device answers with. */
  readonly status: number;

  constructor(status: number, detail?: string) {
    super(`${statusName(status)}${detail ? `: ${detail}` : ''}`, status);
    this.status = status;
  }
}

/** The status a thrown value turns into: its own for {@link GvcpDeviceStatusError}, `ERROR` for anything else. */
export function statusOf(error: unknown): number {
  return GvcpDeviceStatusError.isInstance(error) ? error.status : GvcpStatus.ERROR;
}
