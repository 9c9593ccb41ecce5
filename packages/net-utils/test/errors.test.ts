import { describe, expect, it } from 'vitest';
import {
  AbortError,
  BufferTooSmallError,
  FrameTooLargeError,
  MalformedError,
  PortPoolExhaustedError,
  ProtocolError,
  TimeoutError,
  TrailingBytesError,
  TruncatedError,
  ValueOutOfRangeError,
  WireError,
} from '../src/index.js';

const samples: Array<[WireError, string, string]> = [
  [
    new TruncatedError(4, 2, 1, 'length'),
    'TruncatedError',
    'truncated length: needed 2 bytes at offset 4, only 1 available',
  ],
  [new TruncatedError(0, 1, -3), 'TruncatedError', 'truncated data: needed 1 byte at offset 0, only 0 available'],
  [
    new MalformedError(8, 'unknown command 0x99'),
    'MalformedError',
    'malformed input at offset 8: unknown command 0x99',
  ],
  [new FrameTooLargeError(70000, 65536), 'FrameTooLargeError', 'frame of 70000 bytes exceeds the limit of 65536 bytes'],
  [new TrailingBytesError(12, 1, 'ack'), 'TrailingBytesError', '1 unexpected trailing byte after ack at offset 12'],
  [new TimeoutError('readRegister', 500), 'TimeoutError', 'readRegister timed out after 500 ms'],
  [new ProtocolError('device busy', 0x8004), 'ProtocolError', 'device busy'],
  [new ValueOutOfRangeError('packet size', 'too big'), 'ValueOutOfRangeError', 'packet size: too big'],
  [new BufferTooSmallError(10, 4), 'BufferTooSmallError', 'output buffer too small: 10 bytes needed, 4 available'],
  [
    new PortPoolExhaustedError(50000, 50009, 'udp'),
    'PortPoolExhaustedError',
    'no free UDP port in 50000-50009: release some or widen the range',
  ],
  [new AbortError(), 'AbortError', 'the operation was aborted'],
];

describe('typed errors', () => {
  it.each(samples)('%s has a fixed name and an actionable message', (error, name, message) => {
    expect(error.name).toBe(name);
    expect(error.message).toBe(message);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(WireError);
    expect(WireError.isInstance(error)).toBe(true);
    expect(String(error)).toBe(`${name}: ${message}`);
    expect(error.stack?.startsWith(`${name}: ${message}`)).toBe(true);
  });

  it('keeps fields and cause', () => {
    const cause = new Error('socket reset');
    const e = new TimeoutError('connect', 100, { cause });
    expect(e.cause).toBe(cause);
    expect(e).toMatchObject({ operation: 'connect', timeoutMs: 100 });
    expect(new ProtocolError('x', 'EBUSY').code).toBe('EBUSY');
    expect(new ProtocolError('x').code).toBeUndefined();
    expect(new FrameTooLargeError(5, 4, 'message')).toMatchObject({ size: 5, limit: 4 });
  });

  it('isInstance distinguishes classes and follows the hierarchy', () => {
    const t = new TruncatedError(0, 1, 0);
    expect(TruncatedError.isInstance(t)).toBe(true);
    expect(MalformedError.isInstance(t)).toBe(false);
    expect(WireError.isInstance(new Error('plain'))).toBe(false);
    expect(WireError.isInstance(null)).toBe(false);
    expect(WireError.isInstance('TruncatedError')).toBe(false);
    expect(TruncatedError.isInstance({ name: 'TruncatedError' })).toBe(false);
  });

  it('a subclass in another package gets its own name and is recognised as its parents', () => {
    class HeartbeatTimeout extends TimeoutError {
      static override readonly errorName = 'HeartbeatTimeout';
      constructor() {
        super('heartbeat', 3000);
      }
    }
    const e = new HeartbeatTimeout();
    expect(e.name).toBe('HeartbeatTimeout');
    expect(HeartbeatTimeout.isInstance(e)).toBe(true);
    expect(TimeoutError.isInstance(e)).toBe(true);
    expect(WireError.isInstance(e)).toBe(true);
    expect(TimeoutError.isInstance(new TimeoutError('x', 1))).toBe(true);
    expect(HeartbeatTimeout.isInstance(new TimeoutError('x', 1))).toBe(false);
    // A subclass that does not set its own name keeps its parent's.
    class Quiet extends MalformedError {}
    expect(new Quiet(0, 'x').name).toBe('MalformedError');
  });

  it('recognises an error from a second copy of the package (same Symbol.for tag, different class)', () => {
    // What a duplicate install produces: an unrelated Error class whose instances carry the shared tag.
    const foreign = Object.assign(new Error('truncated frame'), { name: 'TruncatedError' });
    Object.defineProperty(foreign, Symbol.for('@cam/error-kinds'), { value: ['TruncatedError', 'WireError'] });
    expect(foreign).not.toBeInstanceOf(TruncatedError);
    expect(TruncatedError.isInstance(foreign)).toBe(true);
    expect(WireError.isInstance(foreign)).toBe(true);
    expect(MalformedError.isInstance(foreign)).toBe(false);
    const ours = new FrameTooLargeError(2, 1);
    const tag = (ours as unknown as Record<symbol, unknown>)[Symbol.for('@cam/error-kinds')];
    expect(tag).toEqual(['FrameTooLargeError', 'WireError']);
    expect(Object.keys(ours)).not.toContain(Symbol.for('@cam/error-kinds'));
  });
});
