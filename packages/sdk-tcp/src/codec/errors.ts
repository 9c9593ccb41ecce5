import { ProtocolError, WireError } from '@cam/net-utils/wire';
import { DEFAULT_ERROR_TABLE, describeErrorCode, errorCodeName, type HErrorCodeTable } from './error-codes.js';

/** The device answered with a kErrorAnswer packet (it is back in the just-connected state afterwards). */
export class SdkErrorAnswerError extends ProtocolError {
  static override readonly errorName: string = 'SdkErrorAnswerError';
  /** Name of the code in the table the client uses, when it has one. */
  readonly codeName: string | undefined;

  constructor(code: number, context: string, table: HErrorCodeTable = DEFAULT_ERROR_TABLE) {
    super(`device answered ${context} with error ${describeErrorCode(code, table)}`, code);
    this.codeName = errorCodeName(code, table);
  }
}

/** The device refused the transport version as too low (kVersionTooLow); the client disconnected. */
export class VersionTooLowError extends SdkErrorAnswerError {
  static override readonly errorName: string = 'VersionTooLowError';
}

/** Transport version negotiation failed (the device answered a version the client cannot speak). */
export class VersionNegotiationError extends ProtocolError {
  static override readonly errorName: string = 'VersionNegotiationError';
  readonly offered: number;
  readonly answered: number;

  constructor(offered: number, answered: number, detail: string) {
    super(
      `transport version negotiation failed: offered 0x${offered.toString(16)}, device answered 0x${answered.toString(16)} (${detail})`,
    );
    this.offered = offered;
    this.answered = answered;
  }
}

/** An SDK call completed with a `result` other than kSuccess. */
export class SdkResultError extends ProtocolError {
  static override readonly errorName: string = 'SdkResultError';
  readonly method: string;
  readonly result: string;
  /** The whole answer XML. */
  readonly xml: string;

  constructor(method: string, result: string, xml: string) {
    super(`SDK call ${method} failed: ${result}`, result);
    this.method = method;
    this.result = result;
    this.xml = xml;
  }
}

/** A file transfer step answered with a non-zero status, or the content did not match its MD5. */
export class FileTransferError extends ProtocolError {
  static override readonly errorName: string = 'FileTransferError';
  readonly status: number;

  constructor(step: string, status: number, table: HErrorCodeTable = DEFAULT_ERROR_TABLE) {
    super(`${step} failed with status ${describeErrorCode(status, table)}`, status);
    this.status = status;
  }
}

/** The connection closed (or was closed) while an operation waited for it. */
export class ConnectionClosedError extends WireError {
  static override readonly errorName: string = 'ConnectionClosedError';
}
