/**
 * Typed errors for everything that reads or writes bytes on a wire.
 *
 * Every error carries a fixed `.name` and is recognisable across duplicate installs of this package
 * (two copies of @cam/net-utils in one node_modules tree would break `instanceof`): each instance is tagged
 * with `Symbol.for('@cam/error-kinds')`, the list of class names in its chain, and `X.isInstance(value)` checks it.
 */

const KINDS: unique symbol = Symbol.for('@cam/error-kinds') as never;

/** Options accepted by every error constructor (the standard `cause`). */
export interface CamErrorOptions {
  cause?: unknown;
}

/** Longest message a {@link WireError} keeps, in characters; a longer one keeps its head and tail. */
export const MAX_ERROR_MESSAGE_LENGTH = 1000;

/**
 * `text` cut to at most `max` characters: its head and its tail around a note of how much was cut. Messages built
 * from wire content (a tag stack, a device's string) stay readable and small whatever a peer sends.
 */
export function clipText(text: string, max = MAX_ERROR_MESSAGE_LENGTH): string {
  if (text.length <= max) return text;
  const note = ` [... ${text.length - max} characters cut ...] `;
  const keep = Math.max(0, max - note.length);
  const head = Math.ceil(keep * 0.7);
  return text.slice(0, head) + note + text.slice(text.length - (keep - head));
}

/** Base of every typed error in @cam. */
export class WireError extends Error {
  /** The `.name` of instances of this class; subclasses override it. */
  static readonly errorName: string = 'WireError';
  declare readonly [KINDS]: readonly string[];

  /** `message` is cut to {@link MAX_ERROR_MESSAGE_LENGTH} characters (see {@link clipText}). */
  constructor(message: string, options?: CamErrorOptions) {
    super(clipText(message), options);
    const kinds: string[] = [];
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      const n = (c as { errorName?: unknown }).errorName;
      if (typeof n === 'string' && !kinds.includes(n)) kinds.push(n);
    }
    Object.defineProperty(this, KINDS, { value: kinds, enumerable: false });
    this.name = kinds[0] ?? 'WireError';
  }

  /** True when `value` is an instance of this class (or a subclass), from any copy of this package. */
  static isInstance<T extends abstract new (...args: never[]) => WireError>(
    this: T & { errorName: string },
    value: unknown,
  ): value is InstanceType<T> {
    if (typeof value !== 'object' || value === null) return false;
    const kinds = (value as { [KINDS]?: unknown })[KINDS];
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass isInstance was called on
    return Array.isArray(kinds) && kinds.includes(this.errorName);
  }
}

/** Input ended before a field or message was complete. */
export class TruncatedError extends WireError {
  static override readonly errorName: string = 'TruncatedError';
  /** Offset at which the read was attempted. */
  readonly offset: number;
  /** Bytes the read needed from `offset`. */
  readonly needed: number;
  /** Bytes that were available from `offset`. */
  readonly available: number;

  constructor(offset: number, needed: number, available: number, what = 'data', options?: CamErrorOptions) {
    super(
      `truncated ${what}: needed ${needed} byte${needed === 1 ? '' : 's'} at offset ${offset}, ` +
        `only ${Math.max(0, available)} available`,
      options,
    );
    this.offset = offset;
    this.needed = needed;
    this.available = available;
  }
}

/** Bytes that are present but do not form a valid message (bad magic, unknown type, impossible value). */
export class MalformedError extends WireError {
  static override readonly errorName: string = 'MalformedError';
  /** Offset of the offending field. */
  readonly offset: number;
  /** What is wrong, in a few words. */
  readonly what: string;

  constructor(offset: number, what: string, options?: CamErrorOptions) {
    super(`malformed input at offset ${offset}: ${what}`, options);
    this.offset = offset;
    this.what = what;
  }
}

/** A frame, message or announced length exceeds the configured limit; nothing was allocated for it. */
export class FrameTooLargeError extends WireError {
  static override readonly errorName: string = 'FrameTooLargeError';
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number, what = 'frame', options?: CamErrorOptions) {
    super(`${what} of ${size} bytes exceeds the limit of ${limit} bytes`, options);
    this.size = size;
    this.limit = limit;
  }
}

/** A complete message was decoded but bytes were left over after it. */
export class TrailingBytesError extends WireError {
  static override readonly errorName: string = 'TrailingBytesError';
  readonly offset: number;
  readonly count: number;

  constructor(offset: number, count: number, what = 'message', options?: CamErrorOptions) {
    super(`${count} unexpected trailing byte${count === 1 ? '' : 's'} after ${what} at offset ${offset}`, options);
    this.offset = offset;
    this.count = count;
  }
}

/** An operation did not complete in time. */
export class TimeoutError extends WireError {
  static override readonly errorName: string = 'TimeoutError';
  readonly timeoutMs: number;
  readonly operation: string;

  constructor(operation: string, timeoutMs: number, options?: CamErrorOptions) {
    super(`${operation} timed out after ${timeoutMs} ms`, options);
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/** The peer answered, but not as the protocol allows (wrong state, error status, unexpected reply). */
export class ProtocolError extends WireError {
  static override readonly errorName: string = 'ProtocolError';
  /** A protocol-specific code (status code, error number), when there is one. */
  readonly code: number | string | undefined;

  constructor(message: string, code?: number | string, options?: CamErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A value handed to an encoder does not fit its field (too long a string, a number out of range). */
export class ValueOutOfRangeError extends WireError {
  static override readonly errorName: string = 'ValueOutOfRangeError';
  readonly field: string;

  constructor(field: string, detail: string, options?: CamErrorOptions) {
    super(`${field}: ${detail}`, options);
    this.field = field;
  }
}

/** An encoder was given an output buffer too small for the message. */
export class BufferTooSmallError extends WireError {
  static override readonly errorName: string = 'BufferTooSmallError';
  readonly needed: number;
  readonly available: number;

  constructor(needed: number, available: number, options?: CamErrorOptions) {
    super(`output buffer too small: ${needed} bytes needed, ${Math.max(0, available)} available`, options);
    this.needed = needed;
    this.available = available;
  }
}

/** No free port was left in a `PortPool` range (the Node part of this package). */
export class PortPoolExhaustedError extends WireError {
  static override readonly errorName: string = 'PortPoolExhaustedError';

  constructor(min: number, max: number, protocol: string, options?: CamErrorOptions) {
    super(`no free ${protocol.toUpperCase()} port in ${min}-${max}: release some or widen the range`, options);
  }
}

/** The operation was cancelled through its AbortSignal. */
export class AbortError extends WireError {
  static override readonly errorName: string = 'AbortError';

  constructor(message = 'the operation was aborted', options?: CamErrorOptions) {
    super(message, options);
  }
}
