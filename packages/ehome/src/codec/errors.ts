import { FrameTooLargeError, MalformedError } from '@cam/net-utils/wire';

/** The largest signal EHome allows (seed 002: one UDP datagram, at most 1500 bytes). */
export const MAX_SIGNAL_BYTES = 1500;

/** A signal above {@link MAX_SIGNAL_BYTES}, refused before parsing (decode) or before sending (encode). */
export class SignalTooLargeError extends FrameTooLargeError {
  static override readonly errorName: string = 'SignalTooLargeError';

  constructor(size: number, limit = MAX_SIGNAL_BYTES) {
    super(size, limit, 'EHome signal');
  }
}

/** The bytes are not well-formed XML (or not the one `PPVSPMessage` document a signal must be). */
export class XmlSyntaxError extends MalformedError {
  static override readonly errorName: string = 'XmlSyntaxError';
  readonly line: number;
  readonly column: number;

  constructor(what: string, line = 0, column = 0, offset = 0) {
    super(offset, line > 0 ? `${what} (line ${line}, column ${column})` : what);
    this.line = line;
    this.column = column;
  }
}

/**
 * The document carries a DTD, an entity declaration or a reference to an undefined entity. EHome never needs
 * them and expanding them is how XML bombs and external-entity reads work, so they are refused, never expanded.
 */
export class XmlEntityError extends MalformedError {
  static override readonly errorName: string = 'XmlEntityError';

  constructor(what: string, offset = 0) {
    super(offset, what);
  }
}

/** The XML declaration names an encoding this codec does not speak, or the bytes are not valid in it. */
export class SignalEncodingError extends MalformedError {
  static override readonly errorName: string = 'SignalEncodingError';
  readonly encoding: string;

  constructor(encoding: string, what: string, offset = 0) {
    super(offset, what);
    this.encoding = encoding;
  }
}

/** A field the message type requires is absent. `field` is its path, e.g. `Params.DeviceID`. */
export class MissingFieldError extends MalformedError {
  static override readonly errorName: string = 'MissingFieldError';
  readonly field: string;

  constructor(field: string) {
    super(0, `missing field ${field}`);
    this.field = field;
  }
}

/** A field is present but its value has the wrong type or is out of range. `field` is its path. */
export class FieldTypeError extends MalformedError {
  static override readonly errorName: string = 'FieldTypeError';
  readonly field: string;
  readonly expected: string;

  constructor(field: string, expected: string, got?: string) {
    super(0, `field ${field} must be ${expected}${got === undefined ? '' : `, got ${JSON.stringify(truncate(got))}`}`);
    this.field = field;
    this.expected = expected;
  }
}

/**
 * A well-formed `PPVSPMessage` whose command this codec does not know. Carries what a server needs to answer it
 * (the sequence and the command) instead of dropping it silently.
 */
export class UnknownCommandError extends MalformedError {
  static override readonly errorName: string = 'UnknownCommandError';
  readonly command: string;
  readonly commandType: 'REQUEST' | 'RESPONSE';
  readonly sequence: number;
  readonly version: string;

  constructor(command: string, commandType: 'REQUEST' | 'RESPONSE', sequence: number, version: string) {
    super(0, `unknown ${commandType === 'REQUEST' ? 'Command' : 'WhichCommand'} ${JSON.stringify(truncate(command))}`);
    this.command = command;
    this.commandType = commandType;
    this.sequence = sequence;
    this.version = version;
  }
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
