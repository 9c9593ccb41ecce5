import type { GvcpStatus } from '@cam/gvcp/codec';
import { type CamErrorOptions, MalformedError, ProtocolError, WireError } from '@cam/net-utils/wire';
import { type ErrorCodeValue, errorCodeName, SC_GVMP_MAGIC, SC_GVMP_VERSION } from './constants.js';

const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;

/** The two sync bytes of a frame header are not {@link SC_GVMP_MAGIC}: the stream is out of sync or not SC_GVMP. */
export class BadMagicError extends MalformedError {
  static override readonly errorName: string = 'BadMagicError';
  readonly magic: number;

  constructor(offset: number, magic: number, options?: CamErrorOptions) {
    super(offset, `frame magic ${hex4(magic)} is not the SC_GVMP magic ${hex4(SC_GVMP_MAGIC)}`, options);
    this.magic = magic;
  }
}

/** The header announces a version this package does not speak (the rest of the layout cannot be trusted). */
export class UnsupportedVersionError extends MalformedError {
  static override readonly errorName: string = 'UnsupportedVersionError';
  readonly version: number;

  constructor(offset: number, version: number, options?: CamErrorOptions) {
    super(offset, `frame header version ${version} is not supported (only ${SC_GVMP_VERSION})`, options);
    this.version = version;
  }
}

/** The kind bits of Flags name no payload kind. */
export class UnknownPayloadKindError extends MalformedError {
  static override readonly errorName: string = 'UnknownPayloadKindError';
  readonly kind: number;

  constructor(offset: number, kind: number, options?: CamErrorOptions) {
    super(offset, `payload kind ${kind} is unknown (1 JPEG, 2 H.264, 3 H.265, 4 RAW, 5 YUV)`, options);
    this.kind = kind;
  }
}

/** The device refused or failed a stream request; `errCode` is what its ERR_CODE register said. */
export class ScGvmpDeviceError extends ProtocolError {
  static override readonly errorName: string = 'ScGvmpDeviceError';
  readonly errCode: number;
  readonly errName: string;

  constructor(errCode: number, context: string, options?: CamErrorOptions) {
    const name = errorCodeName(errCode) ?? `unknown error ${hex4(errCode)}`;
    super(`${context}: device reports ${name}`, errCode, options);
    this.errCode = errCode;
    this.errName = name;
  }
}

/**
 * Thrown by the device-side register handlers when a write is refused: the register host acknowledges the GVCP
 * write with `gvcpStatus` (and ERR_CODE holds `errCode` when the refusal is an SC_GVMP error).
 */
export class ScGvmpRegisterWriteError extends ProtocolError {
  static override readonly errorName: string = 'ScGvmpRegisterWriteError';
  readonly gvcpStatus: GvcpStatus;
  readonly errCode: ErrorCodeValue | undefined;

  constructor(gvcpStatus: GvcpStatus, message: string, errCode?: ErrorCodeValue, options?: CamErrorOptions) {
    super(message, gvcpStatus, options);
    this.gvcpStatus = gvcpStatus;
    this.errCode = errCode;
  }
}

/** No local interface reaches the camera, so there is no address to write into MCDA. */
export class NoRouteToCameraError extends WireError {
  static override readonly errorName: string = 'NoRouteToCameraError';
  readonly camera: string;

  constructor(camera: string, options?: CamErrorOptions) {
    super(`no local IPv4 interface is on the subnet of ${camera}; pass localAddress`, options);
    this.camera = camera;
  }
}

/**
 * The camera's connection delivered a frame slower than the host's minimum data rate: a header announcing a large
 * payload followed by a trickle (or a partial header left hanging) would otherwise hold the connection and its frame
 * buffer for as long as the peer likes. The host closes the connection with this error.
 */
export class SlowFrameError extends WireError {
  static override readonly errorName: string = 'SlowFrameError';
  /** Bytes received while a frame was in progress. */
  readonly receivedBytes: number;
  /** How long a frame had been in progress. */
  readonly elapsedMs: number;
  readonly minBytesPerSecond: number;

  constructor(receivedBytes: number, elapsedMs: number, minBytesPerSecond: number, options?: CamErrorOptions) {
    super(
      `the camera sent ${receivedBytes} bytes of a frame in ${Math.round(elapsedMs)} ms, under the minimum data rate of ` +
        `${minBytesPerSecond} bytes/s: connection closed`,
      options,
    );
    this.receivedBytes = receivedBytes;
    this.elapsedMs = elapsedMs;
    this.minBytesPerSecond = minBytesPerSecond;
  }
}

/**
 * The device closed an image connection because the host stopped taking bytes: data waited in the socket and the
 * kernel accepted none of it for `stalledMs` (at least the device's `writeStallTimeoutMs`).
 */
export class WriteStallError extends WireError {
  static override readonly errorName: string = 'WriteStallError';
  /** Bytes waiting in the socket when it was closed. */
  readonly pendingBytes: number;
  readonly stalledMs: number;

  constructor(pendingBytes: number, stalledMs: number, options?: CamErrorOptions) {
    super(
      `the host took no bytes of the image connection for ${Math.round(stalledMs)} ms with ${pendingBytes} bytes ` +
        'waiting: connection closed',
      options,
    );
    this.pendingBytes = pendingBytes;
    this.stalledMs = stalledMs;
  }
}
