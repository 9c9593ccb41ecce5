import { ProtocolError } from '@cam/net-utils';
import { describeStatus, statusName } from '../codec/index.js';

/** A device answered a command with a non-success status. */
export class GvcpStatusError extends ProtocolError {
  static override readonly errorName: string = 'GvcpStatusError';
  /** The status code (`GvcpStatus`). */
  declare readonly code: number;
  /** Its name, e.g. `ACCESS_DENIED`. */
  readonly statusName: string;
  /** The command that failed (`readreg`, `writemem`, ...). */
  readonly command: string;
  /** WRITEREG / WRITEMEM: index the device reported (registers written before the failure). */
  readonly index: number | undefined;
  /** The register or memory address involved, when there is one. */
  readonly address: number | undefined;

  constructor(status: number, command: string, details: { index?: number; address?: number } = {}) {
    const where = details.address === undefined ? '' : ` at 0x${details.address.toString(16).padStart(8, '0')}`;
    super(`${command.toUpperCase()}${where} failed: ${describeStatus(status)}`, status);
    this.statusName = statusName(status);
    this.command = command;
    this.index = details.index;
    this.address = details.address;
  }
}

/** The client lost control of the device (heartbeat failed, or the CCP no longer shows our privilege). */
export class ControlLostError extends ProtocolError {
  static override readonly errorName: string = 'ControlLostError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'CONTROL_LOST', options);
  }
}

/** The client was closed; no more calls are possible. */
export class ClientClosedError extends ProtocolError {
  static override readonly errorName: string = 'ClientClosedError';
  constructor(what = 'GVCP client') {
    super(`${what} is closed`, 'CLOSED');
  }
}
